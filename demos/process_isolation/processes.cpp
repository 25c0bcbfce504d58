// process_isolation's processes: children through Boost.Process v2, fork's copies, a crash beside
// siblings, and a pointer handed to another process.
#include "process_isolation/experiments.hpp"

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/fault.hpp"
#include "proclab/handles.hpp"
#include "proclab/spawn.hpp"

#include <algorithm>
#include <csignal>
#include <memory>

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

namespace proclab::process_isolation {

// ---------------------------------------------------------------------------------------------
// 1. Processes spawned through Boost.Process v2.

SpawnedProcesses spawned_processes(const DemoContext& ctx, int children, P1Evidence& p1) {
    copy_text(g_marker, sizeof g_marker, "written by the parent");
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "heap of the parent");

    SpawnedProcesses out;
    auto parent_row = [&](const char* who) {
        out.rows.push_back({who, double(::getpid()), double(::getppid()), hex(g_marker), g_marker, hex(heap.get()),
                            heap.get(), double(count_open_fds()), double(nofile_soft_limit())});
    };
    parent_row("parent");

    p1.children = children;
    for (int i = 0; i < children; ++i) {
        const std::string tag = fmt::format("child-{}", i + 1);
        std::vector<std::string> args{"--child", "report", tag};
        if (i == 1) args.push_back("lower-nofile");
        auto run = run_captured(ctx.self_exe, args, {.timeout = std::chrono::seconds(20)});
        if (!run.status.exited() || run.status.exit_code() != 0)
            throw std::runtime_error(fmt::format("report child {} ended: {}: {}", tag, run.status.describe(), run.err));
        auto f = parse_key_values(run.out);
        if (std::stoi(f["ppid"]) == ::getpid()) ++p1.children_reporting_parent;
        if (unescape(f["global"]) == "written by " + tag) ++p1.children_kept_own_global;
        out.rows.push_back({tag + (i == 1 ? " (lowered its limit)" : ""), std::stod(f["pid"]), std::stod(f["ppid"]),
                            f["global_addr"], unescape(f["global"]), f["heap_addr"], unescape(f["heap"]),
                            std::stod(f["fds"]), std::stod(f["nofile"])});
    }
    // The parent's own values after the children wrote theirs.
    parent_row("parent, after");
    return out;
}

// ---------------------------------------------------------------------------------------------
// 2. fork(): the same virtual address, two copies.

struct ForkView {
    std::uintptr_t global_addr, heap_addr;
    char global[48], heap[48];
};

ForkCopies fork_copy_on_write() {
    copy_text(g_marker, sizeof g_marker, "parent, before fork");
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "parent, before fork");
    Pipe to_child = Pipe::create(), to_parent = Pipe::create();

    auto child = ChildProcess::fork([&] {
        copy_text(g_marker, sizeof g_marker, "child wrote this");
        copy_text(heap.get(), 64, "child wrote this");
        send_value(to_parent.write_end.get(), char{'w'});             // written
        if (!receive_value<char>(to_child.read_end.get())) return 1;  // the parent has written its own
        ForkView view{reinterpret_cast<std::uintptr_t>(g_marker), reinterpret_cast<std::uintptr_t>(heap.get()), {}, {}};
        copy_text(view.global, sizeof view.global, g_marker);
        copy_text(view.heap, sizeof view.heap, heap.get());
        send_value(to_parent.write_end.get(), view);
        return 0;
    });
    if (!receive_value<char>(to_parent.read_end.get())) throw HarnessError(EPIPE, "fork child closed its pipe");
    const std::string parent_after_child_wrote_global = g_marker;
    const std::string parent_after_child_wrote_heap = heap.get();
    copy_text(g_marker, sizeof g_marker, "parent wrote this");
    copy_text(heap.get(), 64, "parent wrote this");
    send_value(to_child.write_end.get(), char{'g'});
    auto view = receive_value<ForkView>(to_parent.read_end.get());
    const auto status = child.wait();
    if (!view) throw std::runtime_error("fork child sent no view: " + status.describe());

    ForkCopies out;
    out.rows.push_back({"global", hex(g_marker), fmt::format("{:#x}", view->global_addr),
                        parent_after_child_wrote_global, view->global});
    out.rows.push_back(
        {"heap", hex(heap.get()), fmt::format("{:#x}", view->heap_addr), parent_after_child_wrote_heap, view->heap});
    const bool same_addresses = view->global_addr == reinterpret_cast<std::uintptr_t>(g_marker) &&
                                view->heap_addr == reinterpret_cast<std::uintptr_t>(heap.get());
    out.isolated = same_addresses && parent_after_child_wrote_global == "parent, before fork" &&
                   parent_after_child_wrote_heap == "parent, before fork" &&
                   std::string(view->global) == "child wrote this" && std::string(view->heap) == "child wrote this";
    return out;
}

// ---------------------------------------------------------------------------------------------
// 3. Crash containment.

CrashContainment crash_containment(int crashes, P1Evidence& p1, const AfterCrash& after_crash) {
    constexpr int kSiblings = 2;
    constexpr auto kAnswerDeadline = std::chrono::seconds(static_cast<int>(kAnswerDeadlineS));
    struct Sibling {
        Pipe ping, pong;
        ChildProcess process;
    };
    std::vector<Sibling> siblings(kSiblings);
    std::vector<pid_t> sibling_pids;
    for (auto& s : siblings) {
        s.ping = Pipe::create();
        s.pong = Pipe::create();
        s.process = ChildProcess::fork([&] {
            // An explicit 'q' ends the loop: later siblings hold copies of this pipe's write end,
            // so EOF would never come.
            while (auto c = receive_value<char>(s.ping.read_end.get())) {
                if (*c == 'q') return 0;
                send_value(s.pong.write_end.get(), *c);
            }
            return 0;
        });
        // The sibling alone holds its answer pipe's write end (later children are forked after
        // this), so its death reads as EOF here instead of a wait for ever. The parent keeps the
        // read end of the ping pipe: a ping to a dead sibling fills a buffer, never raises SIGPIPE.
        s.pong.write_end.reset();
        sibling_pids.push_back(s.process.pid());
    }
    // True when the sibling answered; false when it ended (EOF) or stayed silent past the deadline.
    auto ping = [&](Sibling& s) {
        try {
            send_value(s.ping.write_end.get(), char{'?'});
            pollfd answer{s.pong.read_end.get(), POLLIN, 0};
            const int ready = ::poll(&answer, 1, int(std::chrono::milliseconds(kAnswerDeadline).count()));
            return ready == 1 && receive_value<char>(s.pong.read_end.get()) == '?';
        } catch (const HarnessError&) {
            return false;
        }
    };
    CrashContainment out;
    out.crashes = crashes;
    p1.siblings = kSiblings;
    p1.siblings_alive_after_crash = kSiblings;
    for (int r = 0; r < crashes; ++r) {
        auto crasher = ChildProcess::fork([] {
            die_plainly_on_faults();
            volatile std::uintptr_t null_address = 0;
            store_at(null_address);
            return 0;  // not reached where the MMU does its job
        });
        // The parent, the siblings and the crasher are alive at this moment: their pids must differ.
        std::vector<pid_t> alive_together{::getpid(), crasher.pid()};
        for (const auto& sib : siblings) alive_together.push_back(sib.process.pid());
        std::sort(alive_together.begin(), alive_together.end());
        const int together = int(alive_together.size());
        const int distinct = int(std::unique(alive_together.begin(), alive_together.end()) - alive_together.begin());
        p1.processes_alive_together = std::max(p1.processes_alive_together, together);
        p1.distinct_pids = r == 0 ? distinct : std::min(p1.distinct_pids, distinct);
        p1.processes = together;

        auto crash = crasher.wait_for(std::chrono::seconds(10));
        const bool killed = !crash;
        if (killed) crash = crasher.kill_and_wait();
        ++p1.crashes;
        const bool by_fault = !killed && crash->signaled() && (crash->signal() == SIGSEGV || crash->signal() == SIGBUS);
        if (by_fault) {
            ++p1.crashes_by_fault;
            if (p1.crash_signal.empty()) p1.crash_signal = signal_name(crash->signal());
        }
        if (p1.crash_status.empty() || !by_fault) p1.crash_status = crash->describe();
        p1.crash_killed_by_demo = p1.crash_killed_by_demo || killed;
        if (after_crash) after_crash(r + 1, sibling_pids);
        int answering = 0;
        for (auto& sib : siblings) {
            if (sib.process.running() && ping(sib)) {
                ++answering;
                continue;
            }
            // No answer: the kernel says whether the sibling ended, and how (the direct evidence).
            if (const auto ended = sib.process.running() ? sib.process.wait_for(std::chrono::milliseconds(100))
                                                         : sib.process.status()) {
                if (p1.lost_sibling_status.empty()) {
                    p1.lost_sibling_status = ended->describe();
                    p1.lost_after_crash = r + 1;
                }
            } else {
                ++p1.siblings_unresponsive;
            }
        }
        p1.siblings_alive_after_crash = std::min(p1.siblings_alive_after_crash, answering);
        if (r < kCrashRowsShown)
            out.rows.push_back({r + 1, crasher.pid(), crash->describe() + (killed ? " (by the demo, after 10 s)" : ""),
                                answering, together, distinct});
    }
    for (auto& sib : siblings) {
        if (!sib.process.running()) continue;
        send_value(sib.ping.write_end.get(), char{'q'});
        if (!sib.process.wait_for(kAnswerDeadline)) sib.process.kill_and_wait();
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// 4. A pointer handed to another process.

char g_secret[64] = "";

PointerHandoff pointer_handoff(const DemoContext& ctx, P3Evidence& p3) {
    copy_text(g_secret, sizeof g_secret, fmt::format("parent secret {}", now_ns() % 1000000));
    auto heap_secret = std::make_unique<char[]>(64);
    copy_text(heap_secret.get(), 64, fmt::format("parent heap secret {}", now_ns() % 1000000));

    PointerHandoff out;
    out.global_secret = g_secret;
    out.heap_secret = heap_secret.get();
    for (auto [name, ptr] : {std::pair<const char*, const char*>{"global", g_secret}, {"heap", heap_secret.get()}}) {
        auto run = run_captured(ctx.self_exe, {"--child", "deref", hex(ptr)}, {.timeout = std::chrono::seconds(20)});
        auto f = parse_key_values(run.out);
        std::string outcome;
        ++p3.pointers_handed;
        if (run.status.signaled()) {
            outcome = fmt::format("faulted: {}", run.status.describe());
            ++p3.pointers_faulted;
        } else if (run.status.exited() && run.status.exit_code() == 0) {
            const auto seen = unescape(f["read"]);
            if (seen == ptr) {
                ++p3.pointers_reached_sender;
                outcome = fmt::format("read the parent's data \"{}\"", seen);
            } else {
                outcome = fmt::format("read its own memory: \"{}\"", seen);
                ++p3.pointers_read_own_memory;
            }
        } else {
            outcome = fmt::format("ended: {}", run.status.describe());
        }
        out.rows.push_back({name, hex(ptr), f.count("mapped") ? f["mapped"] : "?", outcome});
    }
    return out;
}

}  // namespace proclab::process_isolation
