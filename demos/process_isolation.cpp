// process_isolation: claims P1 and P3 of ../shared/seed/claims.md.
//
//   P1  Every running program is hosted by a process; processes exist to isolate programs.
//   P3  Processes have no access to each other's address spaces; the OS enforces this.
//
// Method, all of it real and measured in this run:
//   1. Copies of this executable are started through Boost.Process v2 (fork + exec, a fresh
//      address space each) and report their pid, parent pid, and the address and content of a
//      global and a heap object, their open fds and their RLIMIT_NOFILE (one child lowers its own).
//   2. After fork() parent and child write to the same variables: the same virtual address holds
//      different data in each, both ways.
//   3. Crash containment: one forked child dereferences a null pointer and dies of SIGSEGV; its
//      siblings answer a ping after the crash.
//   4. A pointer handed to another process: an exec'd child dereferences the parent's addresses
//      and reads its own memory there, or faults.
//   5. Through the kernel: process_vm_readv(2), a read of /proc/PID/mem and ptrace(PTRACE_ATTACH)
//      against one of this demo's own children, by a reader without the privilege (as root: a
//      helper that drops to uid 65534; otherwise: a target that made itself non-dumpable) and by
//      one with it (CAP_SYS_PTRACE, or the same uid where the target is dumpable and Yama allows).
//   6. The sanctioned door: Boost.Interprocess shared memory, named (removed on every exit path)
//      and anonymous; a flag hand-off round trip through it beside one through a pipe.
//
// Caveats: what the kernel allows depends on uid, capabilities, the target's dumpable flag and
// Yama's ptrace_scope; containers often drop CAP_SYS_PTRACE even for root. Addresses of exec'd
// children differ from the parent's only where ASLR is on (randomize_va_space > 0). A virtual
// machine makes the round trips slower but does not change who can read whom.

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/fault.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "proclab/stats.hpp"

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab::process_isolation {

namespace bip = boost::interprocess;

// ---------------------------------------------------------------------------------------------
// Verdict rules: pure functions of the evidence, unit-tested in tests/unit/test_process_isolation.cpp.

struct P1Evidence {
    int processes = 0;               // children spawned plus this process
    int distinct_pids = 0;
    bool every_ppid_is_parent = false;
    bool every_child_kept_own_global = false;
    bool crash_provoked = false;     // the crashing child ended abnormally
    std::string crash_outcome;       // "killed by SIGSEGV (...)"
    int siblings = 0;
    int siblings_alive_after_crash = 0;
};

struct P3Evidence {
    bool fork_copies_isolated = false;   // same address, different data, both ways
    bool pointer_reached_other = false;  // a handed pointer read the sender's data
    std::string pointer_outcome;         // what the receivers saw
    int unprivileged_attempts = 0;
    int unprivileged_allowed = 0;
    std::string unprivileged_reader;     // who tried without the privilege
    int privileged_attempts = 0;
    int privileged_allowed = 0;
    std::string privileged_reader;       // whose privilege opened the door
    bool shared_memory_works = false;
};

ClaimVerdict decide_p1(const P1Evidence& e) {
    if (e.distinct_pids < e.processes)
        return {"P1", Verdict::refuted,
                fmt::format("only {} distinct pids among {} processes", e.distinct_pids, e.processes)};
    if (e.crash_provoked && e.siblings_alive_after_crash < e.siblings)
        return {"P1", Verdict::refuted,
                fmt::format("a child's crash ({}) took down {} of {} siblings", e.crash_outcome,
                            e.siblings - e.siblings_alive_after_crash, e.siblings)};
    if (!e.crash_provoked)
        return {"P1", Verdict::not_measured,
                fmt::format("{} processes had distinct pids, but the crash could not be provoked ({})", e.processes,
                            e.crash_outcome)};
    if (!e.every_ppid_is_parent || !e.every_child_kept_own_global)
        return {"P1", Verdict::nuanced,
                fmt::format("{} distinct pids and a contained crash, but {}", e.processes,
                            !e.every_ppid_is_parent ? "a child reported another parent" : "a child's global held another value")};
    return {"P1", Verdict::confirmed,
            fmt::format("{} processes, {} distinct pids, each child with its own copy of the globals; a child {} "
                        "and its {} siblings and the parent went on",
                        e.processes, e.distinct_pids, e.crash_outcome, e.siblings_alive_after_crash)};
}

ClaimVerdict decide_p3(const P3Evidence& e) {
    if (!e.fork_copies_isolated)
        return {"P3", Verdict::refuted, "after fork() a write in one process was seen by the other"};
    if (e.pointer_reached_other)
        return {"P3", Verdict::refuted, "a pointer handed to another process read the sender's data: " + e.pointer_outcome};
    if (e.unprivileged_allowed > 0)
        return {"P3", Verdict::refuted,
                fmt::format("{} of {} kernel reads by {} succeeded without the privilege", e.unprivileged_allowed,
                            e.unprivileged_attempts, e.unprivileged_reader)};
    const std::string base = fmt::format(
        "same address, different data after fork; in an exec'd receiver the {}; {}",
        e.pointer_outcome,
        e.unprivileged_attempts > 0
            ? fmt::format("{} of {} kernel reads by {} refused", e.unprivileged_attempts, e.unprivileged_attempts,
                          e.unprivileged_reader)
            : std::string("no unprivileged kernel read could be tried"));
    if (e.privileged_allowed > 0)
        return {"P3", Verdict::nuanced,
                fmt::format("{}; but {} of {} reads by {} succeeded: the kernel enforces isolation, yet "
                            "lets a reader with ptrace rights across{}",
                            base, e.privileged_allowed, e.privileged_attempts, e.privileged_reader,
                            e.shared_memory_works ? ", and shared memory is the sanctioned way through" : "")};
    return {"P3", Verdict::confirmed, base};
}

// ---------------------------------------------------------------------------------------------
// State that the children inspect: one global, one heap object.

char g_marker[64] = "initial value in the binary";

std::string read_c_string(const char* p, std::size_t max) { return std::string(p, strnlen(p, max)); }

std::string hex(const void* p) { return fmt::format("{:#x}", reinterpret_cast<std::uintptr_t>(p)); }

int count_open_fds() {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++n;
    return n - 1;  // the directory stream's own fd
}

rlim_t nofile_soft_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

bool address_mapped(std::uintptr_t address) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::uintptr_t start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &start, &end) == 2 && address >= start && address < end)
            return true;
    }
    return false;
}

std::map<std::string, std::string> parse_key_values(const std::string& line) {
    std::map<std::string, std::string> out;
    std::istringstream in(line);
    std::string token;
    while (in >> token) {
        const auto eq = token.find('=');
        if (eq != std::string::npos) out[token.substr(0, eq)] = token.substr(eq + 1);
    }
    return out;
}

std::string unescape(const std::string& s) {  // children print values with '_' for spaces
    std::string out = s;
    std::replace(out.begin(), out.end(), '_', ' ');
    return out;
}

std::string escape(std::string s) {
    std::replace(s.begin(), s.end(), ' ', '_');
    return s;
}

// ---------------------------------------------------------------------------------------------
// Child modes: run in a fresh copy of this executable (`process_isolation --child MODE ...`).

int child_report(const std::vector<std::string>& args) {
    const std::string tag = args.empty() ? "child" : args[0];
    if (args.size() > 1 && args[1] == "lower-nofile") {
        rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_cur, 64);
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    copy_text(g_marker, sizeof g_marker, "written by " + tag);
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "heap of " + tag);
    std::printf("pid=%d ppid=%d global_addr=%s global=%s heap_addr=%s heap=%s fds=%d nofile=%llu\n",
                static_cast<int>(::getpid()), static_cast<int>(::getppid()), hex(g_marker).c_str(),
                escape(g_marker).c_str(), hex(heap.get()).c_str(), escape(heap.get()).c_str(), count_open_fds(),
                static_cast<unsigned long long>(nofile_soft_limit()));
    return 0;
}

// Dereferences an address that another process handed over. Prints whether it is mapped here
// first, so the parent knows even when the load faults.
int child_deref(const std::vector<std::string>& args) {
    if (args.empty()) return 2;
    const auto address = static_cast<std::uintptr_t>(std::stoull(args[0], nullptr, 16));
    die_plainly_on_faults();
    std::printf("mapped=%s\n", address_mapped(address) ? "yes" : "no");
    std::fflush(stdout);
    std::string seen;
    for (std::size_t i = 0; i < 48; ++i) {
        const char c = load_at(address + i);
        if (c == '\0') break;
        seen += c;
    }
    std::printf("read=%s\n", escape(seen.empty() ? "(empty)" : seen).c_str());
    return 0;
}

// Opens a named segment by name (not inherited: this is a fresh exec) and writes into it.
int child_shm_write(const std::vector<std::string>& args) {
    if (args.size() < 2) return 2;
    bip::shared_memory_object segment(bip::open_only, args[0].c_str(), bip::read_write);
    bip::mapped_region region(segment, bip::read_write);
    copy_text(static_cast<char*>(region.get_address()), region.get_size(), args[1]);
    std::printf("addr=%s\n", hex(region.get_address()).c_str());
    return 0;
}

// ---------------------------------------------------------------------------------------------
// 1. Processes spawned through Boost.Process v2.

struct SpawnedReport {
    std::map<std::string, std::string> fields;
    ExitStatus status;
};

void spawned_processes(const DemoContext& ctx, Result& result, P1Evidence& p1) {
    const int children = ctx.options.quick ? 2 : 3;
    copy_text(g_marker, sizeof g_marker, "written by the parent");
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "heap of the parent");

    auto& table = result.add_table("1. Processes started through Boost.Process v2 (fork + exec of this program)",
                                   {"process", "pid", "ppid", "&global", "global holds", "&heap", "heap holds", "open fds",
                                    "RLIMIT_NOFILE"});
    table.rows.push_back({"parent", std::to_string(::getpid()), std::to_string(::getppid()), hex(g_marker), g_marker,
                          hex(heap.get()), heap.get(), std::to_string(count_open_fds()),
                          std::to_string(nofile_soft_limit())});

    std::vector<pid_t> pids{::getpid()};
    p1.every_ppid_is_parent = true;
    p1.every_child_kept_own_global = true;
    for (int i = 0; i < children; ++i) {
        const std::string tag = fmt::format("child-{}", i + 1);
        std::vector<std::string> args{"--child", "report", tag};
        if (i == 1) args.push_back("lower-nofile");
        auto run = run_captured(ctx.self_exe, args, {.timeout = std::chrono::seconds(20)});
        if (!run.status.exited() || run.status.exit_code() != 0)
            throw std::runtime_error(fmt::format("report child {} ended: {}: {}", tag, run.status.describe(), run.err));
        auto f = parse_key_values(run.out);
        pids.push_back(static_cast<pid_t>(std::stoi(f["pid"])));
        if (std::stoi(f["ppid"]) != ::getpid()) p1.every_ppid_is_parent = false;
        if (unescape(f["global"]) != "written by " + tag) p1.every_child_kept_own_global = false;
        table.rows.push_back({tag + (i == 1 ? " (lowered its limit)" : ""), f["pid"], f["ppid"], f["global_addr"],
                              unescape(f["global"]), f["heap_addr"], unescape(f["heap"]), f["fds"], f["nofile"]});
    }
    // The parent's own values after the children wrote theirs.
    table.rows.push_back({"parent, after", std::to_string(::getpid()), std::to_string(::getppid()), hex(g_marker),
                          g_marker, hex(heap.get()), heap.get(), std::to_string(count_open_fds()),
                          std::to_string(nofile_soft_limit())});
    std::sort(pids.begin(), pids.end());
    p1.processes = static_cast<int>(pids.size());
    p1.distinct_pids = static_cast<int>(std::unique(pids.begin(), pids.end()) - pids.begin());
    table.note = fmt::format(
        "Each child wrote its own tag into the same global and a heap object; the parent's copy is unchanged. "
        "Addresses of exec'd children differ from the parent's where ASLR is on (randomize_va_space = {}). "
        "The child that lowered RLIMIT_NOFILE changed only its own limit.",
        ctx.env.find("aslr") && ctx.env.find("aslr")->value ? *ctx.env.find("aslr")->value : "unknown");
    result.add_metric("distinct_pids", p1.distinct_pids, "count", "distinct pids among the parent and its spawned children");
}

// ---------------------------------------------------------------------------------------------
// 2. fork(): the same virtual address, two copies.

struct ForkView {
    std::uintptr_t global_addr, heap_addr;
    char global[48], heap[48];
};

bool fork_copy_on_write(Result& result) {
    copy_text(g_marker, sizeof g_marker, "parent, before fork");
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "parent, before fork");
    Pipe to_child = Pipe::create(), to_parent = Pipe::create();

    auto child = ChildProcess::fork([&] {
        copy_text(g_marker, sizeof g_marker, "child wrote this");
        copy_text(heap.get(), 64, "child wrote this");
        send_value(to_parent.write_end.get(), char{'w'});  // written
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

    auto& table = result.add_table("2. fork(): the same virtual address holds different data",
                                   {"object", "address in parent", "address in child", "parent reads after the child wrote",
                                    "child reads after the parent wrote"});
    table.rows.push_back({"global", hex(g_marker), fmt::format("{:#x}", view->global_addr), parent_after_child_wrote_global,
                          view->global});
    table.rows.push_back({"heap", hex(heap.get()), fmt::format("{:#x}", view->heap_addr), parent_after_child_wrote_heap,
                          view->heap});
    table.note = "Each side wrote its own text after fork(): neither sees the other's write (copy-on-write pages).";

    const bool same_addresses = view->global_addr == reinterpret_cast<std::uintptr_t>(g_marker) &&
                                view->heap_addr == reinterpret_cast<std::uintptr_t>(heap.get());
    return same_addresses && parent_after_child_wrote_global == "parent, before fork" &&
           parent_after_child_wrote_heap == "parent, before fork" && std::string(view->global) == "child wrote this" &&
           std::string(view->heap) == "child wrote this";
}

// ---------------------------------------------------------------------------------------------
// 3. Crash containment.

void crash_containment(Result& result, P1Evidence& p1) {
    constexpr int kSiblings = 2;
    struct Sibling {
        Pipe ping, pong;
        ChildProcess process;
    };
    std::vector<Sibling> siblings(kSiblings);
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
    }
    auto crasher = ChildProcess::fork([] {
        die_plainly_on_faults();
        volatile std::uintptr_t null_address = 0;
        store_at(null_address);
        return 0;  // not reached where the MMU does its job
    });
    auto crash = crasher.wait_for(std::chrono::seconds(10));
    if (!crash) crash = crasher.kill_and_wait();

    auto& table = result.add_table("3. Crash containment", {"process", "pid", "role", "outcome"});
    table.rows.push_back({"crasher", std::to_string(crasher.pid()), "stores to address 0", crash->describe()});
    p1.crash_provoked = crash->signaled() || (crash->exited() && crash->exit_code() != 0);
    p1.crash_outcome = crash->describe();
    p1.siblings = kSiblings;
    for (auto& s : siblings) {
        bool alive = false;
        try {
            send_value(s.ping.write_end.get(), char{'?'});
            alive = receive_value<char>(s.pong.read_end.get()) == '?';
        } catch (const HarnessError&) {
        }
        if (alive) ++p1.siblings_alive_after_crash;
        table.rows.push_back({"sibling", std::to_string(s.process.pid()), "answers a ping after the crash",
                              alive ? "answered" : "no answer"});
        send_value(s.ping.write_end.get(), char{'q'});
        s.process.wait();
    }
    table.rows.push_back({"parent", std::to_string(::getpid()), "reaps the crasher", "running (it wrote this table)"});
    result.add_metric("siblings_alive_after_crash", p1.siblings_alive_after_crash, "count",
                      "siblings that answered a ping after one child died of SIGSEGV");
}

// ---------------------------------------------------------------------------------------------
// 4. A pointer handed to another process.

char g_secret[64] = "";

void pointer_handoff(const DemoContext& ctx, Result& result, P3Evidence& p3) {
    copy_text(g_secret, sizeof g_secret, fmt::format("parent secret {}", now_ns() % 1000000));
    auto heap_secret = std::make_unique<char[]>(64);
    copy_text(heap_secret.get(), 64, fmt::format("parent heap secret {}", now_ns() % 1000000));

    auto& table = result.add_table("4. A pointer handed to another process (an exec'd child dereferences it)",
                                   {"object", "address", "mapped in the receiver", "receiver's outcome"});
    std::vector<std::string> outcomes;
    for (auto [name, ptr] : {std::pair<const char*, const char*>{"global", g_secret}, {"heap", heap_secret.get()}}) {
        auto run = run_captured(ctx.self_exe, {"--child", "deref", hex(ptr)}, {.timeout = std::chrono::seconds(20)});
        auto f = parse_key_values(run.out);
        std::string outcome;
        if (run.status.signaled()) {
            outcome = fmt::format("faulted: {}", run.status.describe());
        } else if (run.status.exited() && run.status.exit_code() == 0) {
            const auto seen = unescape(f["read"]);
            if (seen == ptr) {
                p3.pointer_reached_other = true;
                outcome = fmt::format("read the parent's data \"{}\"", seen);
            } else {
                outcome = fmt::format("read its own memory: \"{}\"", seen);
            }
        } else {
            outcome = fmt::format("ended: {}", run.status.describe());
        }
        outcomes.push_back(fmt::format("{} pointer {}", name,
                                       run.status.signaled() ? "faulted" : "read the receiver's own memory"));
        table.rows.push_back({name, hex(ptr), f.count("mapped") ? f["mapped"] : "?", outcome});
    }
    table.note = "The parent's data: \"" + std::string(g_secret) + "\" and \"" + heap_secret.get() +
                 "\". An address means something only inside its own address space.";
    p3.pointer_outcome = fmt::format("{}", fmt::join(outcomes, ", "));
}

// ---------------------------------------------------------------------------------------------
// 5. Reading another process's memory through the kernel.

enum class Method : int { process_vm_readv, proc_pid_mem, ptrace_attach };

const char* method_name(Method m) {
    switch (m) {
        case Method::process_vm_readv: return "process_vm_readv(2)";
        case Method::proc_pid_mem: return "read /proc/PID/mem";
        case Method::ptrace_attach: return "ptrace(PTRACE_ATTACH) + PEEKDATA";
    }
    return "?";
}

struct Attempt {
    Method method;
    bool allowed;
    int err;       // errno when refused
    bool matched;  // the bytes read were the target's secret
};

Attempt attempt_read(Method method, pid_t target, std::uintptr_t address, const std::string& expected) {
    std::string buf(expected.size(), '\0');
    Attempt a{method, false, 0, false};
    switch (method) {
        case Method::process_vm_readv: {
            iovec local{buf.data(), buf.size()};
            iovec remote{reinterpret_cast<void*>(address), buf.size()};
            const ssize_t n = ::process_vm_readv(target, &local, 1, &remote, 1, 0);
            if (n < 0) a.err = errno;
            a.allowed = n >= 0;
            break;
        }
        case Method::proc_pid_mem: {
            UniqueFd fd(::open(fmt::format("/proc/{}/mem", target).c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) {
                a.err = errno;
                break;
            }
            const ssize_t n = ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(address));
            if (n < 0) a.err = errno;
            a.allowed = n >= 0;
            break;
        }
        case Method::ptrace_attach: {
            if (::ptrace(PTRACE_ATTACH, target, nullptr, nullptr) != 0) {
                a.err = errno;
                break;
            }
            a.allowed = true;
            int status = 0;
            while (::waitpid(target, &status, __WALL) < 0 && errno == EINTR) {
            }
            for (std::size_t off = 0; off < buf.size(); off += sizeof(long)) {
                errno = 0;
                const long word = ::ptrace(PTRACE_PEEKDATA, target, reinterpret_cast<void*>(address + off), nullptr);
                if (errno != 0) break;
                std::memcpy(buf.data() + off, &word, std::min(sizeof word, buf.size() - off));
            }
            ::ptrace(PTRACE_DETACH, target, nullptr, nullptr);
            break;
        }
    }
    a.matched = a.allowed && buf == expected;
    return a;
}

// A child holding a secret at a known heap address until told to exit.
struct Target {
    ChildProcess process;
    Pipe stop;
    std::string secret;
    bool dumpable = true;
};

Target start_target(char* secret_buffer, bool dumpable) {
    Target t;
    t.dumpable = dumpable;
    t.stop = Pipe::create();
    Pipe ready = Pipe::create();
    t.process = ChildProcess::fork([&] {
        if (!dumpable) ::prctl(PR_SET_DUMPABLE, 0);
        copy_text(secret_buffer, 64, fmt::format("target {} secret {}", ::getpid(), now_ns() % 1000000));
        send_value(ready.write_end.get(), char{'r'});
        (void)receive_value<char>(t.stop.read_end.get());  // until the parent says stop
        return 0;
    });
    ready.write_end.reset();
    if (!receive_value<char>(ready.read_end.get())) throw HarnessError(EPIPE, "target child did not start");
    // A reader that gets this prefix back has read the target's page: the parent's copy of the
    // buffer is all zeros.
    t.secret = fmt::format("target {} secret ", t.process.pid());
    return t;
}

void stop_target(Target& t) {
    send_value(t.stop.write_end.get(), char{'q'});
    t.process.wait();
}

std::string describe_errno(int err) { return err ? fmt::format("{} ({})", errno_name(err), std::strerror(err)) : "-"; }

void kernel_reads(const DemoContext& ctx, Result& result, P3Evidence& p3) {
    constexpr std::array methods{Method::process_vm_readv, Method::proc_pid_mem, Method::ptrace_attach};
    auto secret_buffer = std::make_unique<char[]>(64);  // the same heap address in every forked target

    auto& table = result.add_table("5. Reading a child's memory through the kernel",
                                   {"reader", "target", "method", "outcome", "errno"});
    const std::uintptr_t address = reinterpret_cast<std::uintptr_t>(secret_buffer.get());
    const bool root = ctx.env.euid == 0;
    const std::string me = fmt::format("this process (euid {}, CAP_SYS_PTRACE {})", ctx.env.euid,
                                       ctx.env.cap_sys_ptrace ? "yes" : "no");

    // What each reader learns is checked against the secret the target reports over a pipe.
    auto run_attempts = [&](pid_t target_pid, const std::string& prefix) {
        std::vector<Attempt> out;
        for (Method m : methods) {
            // Compare only the known prefix: the reader does not know the random tail.
            out.push_back(attempt_read(m, target_pid, address, prefix));
        }
        return out;
    };

    auto record = [&](const std::string& reader, const Target& t, const std::vector<Attempt>& attempts, bool privileged) {
        for (const auto& a : attempts) {
            const std::string outcome = a.allowed ? (a.matched ? "allowed: read the target's secret" : "allowed: read bytes")
                                                  : "refused";
            table.rows.push_back({reader, fmt::format("child {} ({})", t.process.pid(), t.dumpable ? "dumpable" : "non-dumpable"),
                                  method_name(a.method), outcome, describe_errno(a.err)});
            if (privileged) {
                ++p3.privileged_attempts;
                if (a.allowed) ++p3.privileged_allowed;
            } else {
                ++p3.unprivileged_attempts;
                if (a.allowed) ++p3.unprivileged_allowed;
            }
        }
    };

    // (a) This process against a dumpable child: the same uid, an ancestor, or root.
    {
        Target t = start_target(secret_buffer.get(), true);
        const bool privileged = true;  // same uid (and an ancestor) or CAP_SYS_PTRACE: the door is open
        record(me, t, run_attempts(t.process.pid(), t.secret), privileged);
        if (p3.privileged_allowed > 0)
            p3.privileged_reader = ctx.env.cap_sys_ptrace
                                       ? fmt::format("this process ({} with CAP_SYS_PTRACE)", root ? "root" : "a user")
                                       : fmt::format("this process (the same uid as its dumpable child{})",
                                                     ctx.env.yama_ptrace_scope
                                                         ? fmt::format(", Yama ptrace_scope {}", *ctx.env.yama_ptrace_scope)
                                                         : "");
        stop_target(t);
    }

    // (b) This process against a non-dumpable child: refused unless the reader holds CAP_SYS_PTRACE.
    {
        Target t = start_target(secret_buffer.get(), false);
        const bool privileged = ctx.env.cap_sys_ptrace;
        record(me, t, run_attempts(t.process.pid(), t.secret), privileged);
        if (!privileged) p3.unprivileged_reader = "a same-uid reader without CAP_SYS_PTRACE against a non-dumpable target";
        stop_target(t);
    }

    // (c) As root: a helper that drops to uid/gid 65534 (no capabilities) against a dumpable child.
    if (root) {
        Target t = start_target(secret_buffer.get(), true);
        Pipe results = Pipe::create();
        const pid_t target_pid = t.process.pid();
        const std::string prefix = t.secret;
        auto helper = ChildProcess::fork([&] {
            const pid_t demo = ::getppid();
            if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 4;
            die_with_parent(demo);  // a change of credentials clears PR_SET_PDEATHSIG
            for (const auto& a : run_attempts(target_pid, prefix)) send_value(results.write_end.get(), a);
            return 0;
        });
        results.write_end.reset();
        std::vector<Attempt> attempts;
        while (auto a = receive_value<Attempt>(results.read_end.get())) attempts.push_back(*a);
        const auto status = helper.wait();
        if (status.exited() && status.exit_code() == 4) {
            table.rows.push_back({"helper dropping to uid 65534", "-", "-", "could not drop privileges", "-"});
        } else {
            record("helper at uid 65534, no capabilities", t, attempts, false);
            p3.unprivileged_reader = p3.unprivileged_reader.empty()
                                         ? "an unprivileged uid"
                                         : "an unprivileged uid and " + p3.unprivileged_reader;
        }
        stop_target(t);
    } else {
        result.notes.push_back("Not root: no helper can switch to another uid, so the cross-uid refusal was not tried; "
                               "the refusal shown is the non-dumpable one.");
    }
    table.note = fmt::format(
        "Only this demo's own children are targets. Yama ptrace_scope: {}. A refusal is the kernel's answer "
        "(EPERM/EACCES), reported as evidence, not as an error.",
        ctx.env.yama_ptrace_scope ? std::to_string(*ctx.env.yama_ptrace_scope) : "Yama not present");
}

// ---------------------------------------------------------------------------------------------
// 6. Shared memory: the sanctioned door, and what a hand-off through it costs.

// Removes the named segment on construction (a leftover of a killed run) and on destruction; the
// cleanup registry unlinks it on Ctrl-C, SIGTERM and --timeout, which no destructor sees.
class SharedMemoryRemover {
public:
    explicit SharedMemoryRemover(std::string name) : name_(std::move(name)) {
        bip::shared_memory_object::remove(name_.c_str());
        cleanup::track_path("/dev/shm/" + name_);
    }
    SharedMemoryRemover(const SharedMemoryRemover&) = delete;
    SharedMemoryRemover& operator=(const SharedMemoryRemover&) = delete;
    ~SharedMemoryRemover() {
        bip::shared_memory_object::remove(name_.c_str());
        cleanup::untrack_path("/dev/shm/" + name_);
    }
    const std::string& name() const { return name_; }

private:
    std::string name_;
};

struct HandOff {
    alignas(64) std::atomic<std::uint64_t> ping{0};
    alignas(64) std::atomic<std::uint64_t> pong{0};
};

// Spin briefly, then yield: on one CPU the other side can only run if we step aside.
template <class Ready>
void wait_until(Ready ready) {
    for (int spins = 0; !ready(); ++spins)
        if (spins > 2000) ::sched_yield();
}

std::vector<double> shm_round_trips(HandOff& h, int warmup, int count, double clock_overhead, int child_cpu) {
    auto child = ChildProcess::fork([&] {
        if (child_cpu >= 0) pin_to_cpu(child_cpu);
        for (std::uint64_t i = 1;; ++i) {
            wait_until([&] { return h.ping.load(std::memory_order_acquire) >= i; });
            const auto v = h.ping.load(std::memory_order_acquire);
            if (v == UINT64_MAX) return 0;
            h.pong.store(v, std::memory_order_release);
        }
    });
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 1; i <= static_cast<std::uint64_t>(warmup + count); ++i) {
        const Nanos t0 = now_ns();
        h.ping.store(i, std::memory_order_release);
        wait_until([&] { return h.pong.load(std::memory_order_acquire) == i; });
        const Nanos t1 = now_ns();
        if (i > static_cast<std::uint64_t>(warmup)) samples.push_back(static_cast<double>(t1 - t0));
    }
    h.ping.store(UINT64_MAX, std::memory_order_release);
    child.wait();
    return subtract_overhead(samples, clock_overhead);
}

std::vector<double> pipe_round_trips(int warmup, int count, double clock_overhead, int child_cpu) {
    Pipe there = Pipe::create(), back = Pipe::create();
    auto child = ChildProcess::fork([&] {
        if (child_cpu >= 0) pin_to_cpu(child_cpu);
        there.write_end.reset();
        while (auto c = receive_value<char>(there.read_end.get())) send_value(back.write_end.get(), *c);
        return 0;
    });
    there.read_end.reset();
    back.write_end.reset();
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < warmup + count; ++i) {
        const Nanos t0 = now_ns();
        send_value(there.write_end.get(), char{'x'});
        (void)receive_value<char>(back.read_end.get());
        const Nanos t1 = now_ns();
        if (i >= warmup) samples.push_back(static_cast<double>(t1 - t0));
    }
    there.write_end.reset();
    child.wait();
    return subtract_overhead(samples, clock_overhead);
}

bool shared_memory(const DemoContext& ctx, Result& result) {
    auto& table = result.add_table("6. Shared memory: the sanctioned door (Boost.Interprocess)",
                                   {"kind", "writer", "reader", "address in writer", "address in reader", "reader sees"});
    bool works = true;

    // Named: an exec'd child opens the segment by its name and writes; the parent reads.
    {
        SharedMemoryRemover guard(fmt::format("proclab-isolation-{}", ::getpid()));
        bip::shared_memory_object segment(bip::create_only, guard.name().c_str(), bip::read_write);
        segment.truncate(4096);
        bip::mapped_region region(segment, bip::read_write);
        const std::string message = fmt::format("hello from an exec'd child {}", now_ns() % 1000);
        auto run = run_captured(ctx.self_exe, {"--child", "shm-write", guard.name(), message},
                                {.timeout = std::chrono::seconds(20)});
        const std::string seen = read_c_string(static_cast<const char*>(region.get_address()), region.get_size());
        works = works && run.status.exited() && run.status.exit_code() == 0 && seen == message;
        table.rows.push_back({"named (/dev/shm/" + guard.name() + ")", "exec'd child", "parent",
                              parse_key_values(run.out)["addr"], hex(region.get_address()), seen});
    }

    // Anonymous: mapped before fork, so parent and child map the same pages.
    bip::mapped_region anon = bip::anonymous_shared_memory(4096);
    {
        auto* text = static_cast<char*>(anon.get_address());
        auto child = ChildProcess::fork([&] {
            copy_text(text, 64, "written by the forked child");
            return 0;
        });
        child.wait();
        works = works && std::string(text) == "written by the forked child";
        table.rows.push_back({"anonymous (MAP_SHARED, inherited by fork)", "forked child", "parent", hex(text), hex(text), text});
    }
    table.note = "Both processes map the same physical pages; the virtual addresses may differ. Sharing is opted into "
                 "by both sides, which is why it does not breach isolation.";

    // The round trip: one flag hand-off through shared memory beside one byte through a pipe.
    const int count = ctx.repeat(20000, 2000);
    const int warmup = std::max(100, count / 10);
    // With two CPUs or more the parent and the child are pinned to two different ones, so a hop
    // is a cache-line transfer (shared memory) or a cross-CPU wake-up (pipe), never a wait for
    // the same CPU. With one CPU both share it and every hop is a context switch.
    const auto& cpus = ctx.env.affinity_cpus;
    const bool two_cpus = cpus.size() >= 2;
    std::optional<ScopedPin> parent_pin;
    if (two_cpus) parent_pin.emplace(cpus[0]);
    const int child_cpu = two_cpus ? cpus[1] : -1;
    auto* handoff = new (anon.get_address()) HandOff{};
    const auto shm = summarize(shm_round_trips(*handoff, warmup, count, ctx.clock.read_overhead_ns, child_cpu));
    handoff->~HandOff();
    const auto pipe = summarize(pipe_round_trips(warmup, count, ctx.clock.read_overhead_ns, child_cpu));
    parent_pin.reset();
    result.config.repeat = count;

    auto& rt = result.add_table("7. Hand-off round trip, parent -> child -> parent",
                                {"channel", "median", "p90", "p99", "min", "max", "round trips"});
    for (auto [name, s] : {std::pair<const char*, const Summary&>{"shared-memory flag (spin, then yield)", shm},
                           {"pipe, one byte each way", pipe}})
        rt.rows.push_back({name, format_value(s.median, "ns"), format_value(s.p90, "ns"), format_value(s.p99, "ns"),
                           format_value(s.min, "ns"), format_value(s.max, "ns"), std::to_string(s.count)});
    rt.note = fmt::format(
        "{} warm-up round trips discarded; the clock's read overhead ({}) subtracted from each sample. {} "
        "Pipe / shared memory median: {:.1f}x.",
        warmup, format_value(ctx.clock.read_overhead_ns, "ns"),
        two_cpus ? fmt::format("Parent pinned to CPU {}, child to CPU {}: the shared-memory side spins, so a hop is a "
                               "cache-line transfer; a pipe hop wakes the reader on the other CPU, which in a virtual "
                               "machine means waking an idle virtual CPU through the hypervisor.",
                               cpus[0], cpus[1])
                 : std::string("One CPU: parent and child share it, so every hop of either channel is a context switch "
                               "(the flag waiter yields after a short spin)."),
        shm.median > 0 ? pipe.median / shm.median : 0.0);
    result.add_metric("shm_flag_round_trip", shm, "ns", "flag hand-off parent->child->parent through shared memory");
    result.add_metric("pipe_round_trip", pipe, "ns", "one byte parent->child->parent through two pipes");
    return works;
}

// ---------------------------------------------------------------------------------------------

Result run(const DemoContext& ctx) {
    Result result;
    P1Evidence p1;
    P3Evidence p3;

    spawned_processes(ctx, result, p1);
    p3.fork_copies_isolated = fork_copy_on_write(result);
    crash_containment(result, p1);
    pointer_handoff(ctx, result, p3);
    kernel_reads(ctx, result, p3);
    p3.shared_memory_works = shared_memory(ctx, result);

    result.add_verdict(decide_p1(p1), fmt::format("{} processes, {} pids; a child's SIGSEGV left {} of {} siblings running",
                                                  p1.processes, p1.distinct_pids, p1.siblings_alive_after_crash, p1.siblings));
    result.add_verdict(decide_p3(p3), fmt::format("fork: same address, own data; kernel reads: {} of {} refused without privilege, {} of {} "
                                                  "allowed with it",
                                                  p3.unprivileged_attempts - p3.unprivileged_allowed, p3.unprivileged_attempts,
                                                  p3.privileged_allowed, p3.privileged_attempts));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "process_isolation";
    s.title = "processes are isolated: own pid, own memory, contained crashes; the kernel guards the door";
    s.claims = {"P1", "P3"};
    s.default_timeout_s = 60;
    s.run = run;
    s.child_modes = {{"report", child_report}, {"deref", child_deref}, {"shm-write", child_shm_write}};
    return s;
}

}  // namespace proclab::process_isolation

PROCLAB_DEMO_MAIN(proclab::process_isolation::spec)
