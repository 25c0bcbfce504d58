// fork_semantics: claim T6 of ../shared/seed/claims.md.
//
//   T6  A thread lives only inside its process and cannot migrate to another; fork is not
//       migration but copying.
//
// Method, all in this run:
//   1. Copy-on-write: a private region of S MiB (sweep 1, 16, 256; --quick 1, 16; --sizes) is filled by the
//      parent, then fork(). The child first reads every page (minor faults counted with getrusage:
//      reading copies nothing), then writes one byte per page (one fault per page: each write copies
//      its page), timing both; the parent checks its own bytes after the child wrote. Transparent
//      huge pages are turned off for the region (MADV_NOHUGEPAGE) so a page is 4 KiB.
//   2. fork() in a process running several threads: the child counts /proc/self/task (one entry),
//      checks that none of the parent's other thread ids exists in it, and that its only thread is
//      a new kernel task (its tid is the child's pid, not the forking thread's tid).
//   3. The classic hazard: another thread holds a mutex at the moment of fork; in the child no
//      thread owns it any more, and a timed try-lock gives up. With pthread_atfork handlers that
//      take the mutex before fork and release it on both sides, the child can lock it.
//
// Caveats: in a virtual machine every page fault is costlier (nested paging), so the time per
// copied page is higher than on bare metal. With THP a write to a huge page splits it. Forking a
// multi-threaded process is allowed, but the child may only call async-signal-safe functions until
// it execs; this demo's child breaks that rule on purpose, only with its own, reset state.

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/sizes.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

namespace proclab::fork_semantics {

constexpr std::size_t kPage = 4096;

long minor_faults() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

// ---------------------------------------------------------------------------------------------
// 1. Copy-on-write.

struct CowReport {
    long read_faults, write_faults;
    double read_ns, write_ns;
    std::uintptr_t child_address;
};

struct CowResult {
    std::size_t mib = 0, pages = 0;
    CowReport child{};
    bool parent_unchanged = false, same_address = false;
};

CowResult copy_on_write(std::size_t mib) {
    CowResult r;
    r.mib = mib;
    r.pages = mib * 1024 * 1024 / kPage;
    Mapping region = Mapping::anonymous(mib * 1024 * 1024, false);
    ::madvise(region.data(), region.size(), MADV_NOHUGEPAGE);
    auto* bytes = static_cast<volatile unsigned char*>(region.data());
    for (std::size_t p = 0; p < r.pages; ++p) bytes[p * kPage] = 1;  // the parent owns every page

    Pipe report = Pipe::create();
    auto child = ChildProcess::fork([&] {
        CowReport c{};
        c.child_address = reinterpret_cast<std::uintptr_t>(region.data());
        long f0 = minor_faults();
        Nanos t0 = now_ns();
        unsigned sum = 0;
        for (std::size_t p = 0; p < r.pages; ++p) sum += bytes[p * kPage];
        c.read_ns = double(now_ns() - t0);
        c.read_faults = minor_faults() - f0;
        f0 = minor_faults();
        t0 = now_ns();
        for (std::size_t p = 0; p < r.pages; ++p) bytes[p * kPage] = 2;  // each write copies its page
        c.write_ns = double(now_ns() - t0);
        c.write_faults = minor_faults() - f0;
        send_value(report.write_end.get(), c);
        return sum == r.pages ? 0 : 1;
    });
    auto c = receive_value<CowReport>(report.read_end.get());
    const auto status = child.wait();
    if (!c || !status.exited() || status.exit_code() != 0)
        throw std::runtime_error("copy-on-write child ended: " + status.describe());
    r.child = *c;
    r.same_address = c->child_address == reinterpret_cast<std::uintptr_t>(region.data());
    r.parent_unchanged = true;
    for (std::size_t p = 0; p < r.pages; ++p)
        if (bytes[p * kPage] != 1) r.parent_unchanged = false;
    return r;
}

// ---------------------------------------------------------------------------------------------
// 2. Threads at fork time.

struct ThreadsAtFork {
    int parent_threads = 0;
    int child_threads = 0;
    int parent_tids_in_child = 0;  // of the parent's other threads, how many exist in the child
    pid_t forking_tid = 0, child_pid = 0, child_tid = 0;
};

int count_tasks(const char* dir) {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) ++n;
    return n;
}

ThreadsAtFork threads_at_fork(int extra_threads) {
    ThreadsAtFork r;
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::vector<pid_t> tids(static_cast<std::size_t>(extra_threads));
    std::atomic<int> started{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < extra_threads; ++i)
        ts.emplace_back([&, i] {
            tids[std::size_t(i)] = ::gettid();
            started.fetch_add(1);
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return release; });
        });
    while (started.load() < extra_threads) std::this_thread::yield();
    r.parent_threads = count_tasks("/proc/self/task");
    r.forking_tid = ::gettid();

    struct ChildView {
        int threads, found;
        pid_t pid, tid;
    };
    Pipe report = Pipe::create();
    auto child = ChildProcess::fork([&] {
        ChildView v{count_tasks("/proc/self/task"), 0, ::getpid(), ::gettid()};
        for (pid_t tid : tids)
            if (::access(fmt::format("/proc/self/task/{}", tid).c_str(), F_OK) == 0) ++v.found;
        send_value(report.write_end.get(), v);
        return 0;
    });
    auto v = receive_value<ChildView>(report.read_end.get());
    child.wait();
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    for (auto& t : ts) t.join();
    if (!v) throw std::runtime_error("the forked child sent no report");
    r.child_threads = v->threads;
    r.parent_tids_in_child = v->found;
    r.child_pid = v->pid;
    r.child_tid = v->tid;
    return r;
}

// ---------------------------------------------------------------------------------------------
// 3. A mutex held by another thread at fork time.

std::mutex g_guarded;            // the mutex a "library" would protect its state with
std::atomic<bool> g_atfork_on{false};

void atfork_prepare() {
    if (g_atfork_on.load()) g_guarded.lock();  // fork waits until no other thread is inside
}
void atfork_release() {
    if (g_atfork_on.load()) g_guarded.unlock();
}

struct MutexAtFork {
    bool locked_in_child_without = false;  // the child's try-lock gave up
    bool lockable_in_child_with = false;   // with pthread_atfork
    double waited_ms = 0;
};

// The child tries for `patience`; true when it got the lock.
bool child_can_lock(std::chrono::milliseconds patience) {
    Pipe report = Pipe::create();
    auto child = ChildProcess::fork([&] {
        const auto deadline = std::chrono::steady_clock::now() + patience;
        bool got = false;
        while (!got && std::chrono::steady_clock::now() < deadline) {
            got = g_guarded.try_lock();
            if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (got) g_guarded.unlock();
        send_value(report.write_end.get(), got);
        return 0;
    });
    const auto got = receive_value<bool>(report.read_end.get());
    child.wait();
    return got.value_or(false);
}

MutexAtFork mutex_at_fork(std::chrono::milliseconds patience) {
    static const int registered = ::pthread_atfork(atfork_prepare, atfork_release, atfork_release);
    (void)registered;
    MutexAtFork r;

    // Without handlers: a thread holds the mutex across the fork.
    {
        std::atomic<bool> held{false}, done{false};
        std::thread holder([&] {
            std::lock_guard lock(g_guarded);
            held = true;
            while (!done.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
        while (!held.load()) std::this_thread::yield();
        const Nanos t0 = now_ns();
        r.locked_in_child_without = !child_can_lock(patience);
        r.waited_ms = double(now_ns() - t0) / 1e6;
        done = true;
        holder.join();
    }
    // With handlers: the same thread takes the mutex in short critical sections; fork waits for a
    // moment when it is free and the child starts with it unlocked.
    {
        g_atfork_on = true;
        std::atomic<bool> done{false};
        std::thread holder([&] {
            while (!done.load()) {
                {
                    std::lock_guard lock(g_guarded);
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
                std::this_thread::sleep_for(std::chrono::microseconds(50));  // a gap for fork to take it
            }
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        r.lockable_in_child_with = child_can_lock(patience);
        done = true;
        holder.join();
        g_atfork_on = false;
    }
    return r;
}

// ---------------------------------------------------------------------------------------------
// The verdict: a pure function, unit-tested in tests/unit/test_fork_semantics.cpp.

struct Evidence {
    std::vector<CowResult> cow;
    ThreadsAtFork threads;
    MutexAtFork mutex;
};

ClaimVerdict decide_t6(const Evidence& e) {
    const auto& t = e.threads;
    bool isolated = !e.cow.empty();
    std::string cow;
    for (const auto& c : e.cow) {
        isolated = isolated && c.parent_unchanged && c.same_address;
        cow += fmt::format("{}{} MiB: {} faults reading, {} writing {} pages", cow.empty() ? "" : "; ", c.mib, c.child.read_faults,
                           c.child.write_faults, c.pages);
    }
    const std::string evidence = fmt::format(
        "fork() in a process of {} threads gave a child of {} thread{} (its tid {} = its pid, not the forking tid {}; {} of "
        "the parent's other {} tids exist there); copy-on-write at the same addresses, the parent's bytes unchanged: {}; a "
        "mutex held by another thread at fork stayed locked in the child{}",
        t.parent_threads, t.child_threads, t.child_threads == 1 ? "" : "s", t.child_tid, t.forking_tid, t.parent_tids_in_child,
        t.parent_threads - 1, cow, e.mutex.locked_in_child_without ? fmt::format(" ({:.0f} ms try-lock gave up)", e.mutex.waited_ms) : " (NOT: it was free)");
    if (t.child_threads != 1 || t.parent_tids_in_child > 0 || !isolated)
        return {"T6", Verdict::refuted, "fork did not copy exactly one thread and a private address space: " + evidence};
    return {"T6", Verdict::confirmed,
            evidence + (e.mutex.lockable_in_child_with ? "; pthread_atfork handlers fixed it" : "") +
                ": only the calling thread is copied, as a new task; the others do not move, their locks are copied as they were"};
}

// ---------------------------------------------------------------------------------------------

struct Options {
    std::string sizes;  // empty: 1M,16M,256M (--quick 1M,16M)
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--sizes", g_options.sizes,
                   "Sizes of the copy-on-write region, whole MiB from 1M to 4G (like 1M,64M,1G; default 1M,16M,256M, --quick 1M,16M)")
        ->type_name("LIST");
}

Result run(const DemoContext& ctx) {
    Result result;
    Evidence e;
    const std::string size_list = !g_options.sizes.empty() ? g_options.sizes : ctx.options.quick ? "1M,16M" : "1M,16M,256M";
    const auto bytes = parse_byte_list(size_list, std::size_t(1) << 20, std::size_t(4) << 30);
    if (!bytes || std::any_of(bytes->begin(), bytes->end(), [](std::size_t b) { return b % (std::size_t(1) << 20) != 0; }))
        throw UsageError(fmt::format("--sizes {}: give whole MiB from 1M to 4G, like 1M,64M,1G", size_list));
    std::vector<std::size_t> sizes;
    for (std::size_t b : *bytes) sizes.push_back(b >> 20);
    for (auto mib : sizes) e.cow.push_back(copy_on_write(mib));

    auto& c = result.add_table("1. Copy-on-write after fork(): the child reads every page, then writes every page",
                               {"region", "pages", "faults reading", "faults writing", "time per page read", "time per page copied",
                                "same address", "parent's bytes after"});
    for (const auto& r : e.cow) {
        c.rows.push_back({fmt::format("{} MiB", r.mib), std::to_string(r.pages), std::to_string(r.child.read_faults),
                          std::to_string(r.child.write_faults), format_value(r.child.read_ns / double(r.pages), "ns"),
                          format_value(r.child.write_ns / double(r.pages), "ns"), r.same_address ? "yes" : "no",
                          r.parent_unchanged ? "unchanged" : "CHANGED"});
        result.add_metric(fmt::format("cow_ns_per_page_{}mib", r.mib), r.child.write_ns / double(r.pages), "ns",
                          "child's write to a page shared after fork (the copy)");
        result.add_metric(fmt::format("cow_write_faults_{}mib", r.mib), double(r.child.write_faults), "count",
                          "minor faults while the child wrote every page");
    }
    c.note = "Minor faults from getrusage(RUSAGE_SELF) in the child. Reading a shared page costs no fault: fork copied the "
             "page tables, not the pages. The first write to each page faults once and copies 4 KiB (THP off for the region).";

    e.threads = threads_at_fork(3);
    auto& t = result.add_table("2. fork() while 4 threads run", {"what", "value"});
    t.rows.push_back({"threads in the parent at fork (/proc/self/task)", std::to_string(e.threads.parent_threads)});
    t.rows.push_back({"threads in the child", std::to_string(e.threads.child_threads)});
    t.rows.push_back({"the parent's other thread ids present in the child", std::to_string(e.threads.parent_tids_in_child)});
    t.rows.push_back({"tid of the forking thread in the parent", std::to_string(e.threads.forking_tid)});
    t.rows.push_back({"the child's pid / its one thread's tid", fmt::format("{} / {}", e.threads.child_pid, e.threads.child_tid)});
    t.note = "The child's only thread continues the forking thread's code, but it is a new kernel task with a new id; the "
             "other threads were not copied and do not move: a thread cannot leave its process.";

    e.mutex = mutex_at_fork(std::chrono::milliseconds(ctx.options.quick ? 100 : 300));
    auto& m = result.add_table("3. A mutex held by another thread when fork() is called", {"case", "the child's try-lock"});
    m.rows.push_back({"a thread holds it across fork()",
                      e.mutex.locked_in_child_without ? fmt::format("gave up after {:.0f} ms: locked forever, its owner was not copied", e.mutex.waited_ms)
                                                      : "got it"});
    m.rows.push_back({"pthread_atfork handlers take it before fork and release it on both sides",
                      e.mutex.lockable_in_child_with ? "got it" : "gave up"});
    m.note = "What to do instead: exec soon after fork (only async-signal-safe calls in between), or posix_spawn, which never "
             "runs the parent's code in the child; pthread_atfork is the last resort for libraries.";

    const auto& biggest = e.cow.back();
    result.add_verdict(decide_t6(e), fmt::format("{} threads -> {} in the child; {} copy-on-write faults for {} pages written; a held mutex "
                                                 "{} in the child",
                                                 e.threads.parent_threads, e.threads.child_threads, biggest.child.write_faults,
                                                 biggest.pages, e.mutex.locked_in_child_without ? "stayed locked" : "was free"));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "fork_semantics";
    s.title = "fork copies: one thread, a copy-on-write address space, and the locks as they were";
    s.claims = {"T6"};
    s.default_timeout_s = 60;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::fork_semantics

PROCLAB_DEMO_MAIN(proclab::fork_semantics::spec)
