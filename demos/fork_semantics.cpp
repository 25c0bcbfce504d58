// fork_semantics: claim T6 of docs/claims.md.
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
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++n;
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

std::mutex g_guarded;  // the mutex a "library" would protect its state with
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
    double waited_ms = 0;                  // how long the child tried, without handlers
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
// The rule: a pure function, unit-tested in tests/unit/test_fork_semantics.cpp.

struct Evidence {
    std::vector<CowResult> cow;
    ThreadsAtFork threads;
    MutexAtFork mutex;
};

const RuleInfo kT6Rule{
    .claim = "T6",
    .evidence =
        "fork() in a process running several threads: the child's threads (/proc/self/task), whether the parent's "
        "other thread ids "
        "exist in it, its one thread's tid; copy-on-write regions written on both sides; a mutex another thread held "
        "at the fork, "
        "tried in the child",
    .refuted_by =
        "a child with more than one thread, one of the parent's other threads in it, its thread keeping the forking "
        "thread's id, a "
        "write seen across the fork, or a mutex held at the fork found free in the child",
    .guarantee = true,
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "one new thread in the child, private copies on write, the held mutex still locked there (Linux, "
                 "every time)",
         .reached_by = "T6 is confirmed by one new thread in the child, private copies and the mutex still held"},
        {.verdict = Verdict::refuted,
         .when = "any of the observations above",
         .reached_by = "T6 is refuted if threads come along, a thread keeps its id, a write crosses, or the held mutex "
                       "is free"}}};

Decision decide_t6(const Evidence& e) {
    Rule rule(kT6Rule);
    const auto& t = e.threads;
    rule.use(count_fact("parent_threads", t.parent_threads, "threads in the parent at fork (/proc/self/task)"));
    rule.use(
        count_fact("parent_other_threads", t.parent_threads - 1, "the parent's threads other than the forking one"));
    rule.use(count_fact("child_threads", t.child_threads, "threads in the child (/proc/self/task)"));
    rule.use(count_fact("parent_tids_in_child", t.parent_tids_in_child,
                        "the parent's other thread ids present in the child"));
    rule.use(count_fact("child_tid", t.child_tid, "the tid of the child's one thread"));
    rule.use(count_fact("forking_tid", t.forking_tid, "the tid of the thread that called fork, in the parent"));
    const bool new_task = rule.flag(
        flag_fact("child_thread_is_new_task", t.child_tid != t.forking_tid, "the child's thread has a new tid"));
    const bool tid_is_pid = t.child_tid == t.child_pid;
    if (tid_is_pid) {
        rule.use(count_fact("child_pid", t.child_pid, "the child's pid"));
        rule.use(flag_fact("child_tid_is_pid", true, "the child's thread is its process's first task"));
    }
    bool isolated = !e.cow.empty();
    std::string regions;
    for (std::size_t i = 0; i < e.cow.size(); ++i) {
        const auto& c = e.cow[i];
        const std::string id = fmt::format("cow{}", i + 1);
        isolated = isolated && c.parent_unchanged && c.same_address;
        rule.use(number_fact(id + "_bytes", double(c.mib) * 1024 * 1024, "bytes", "a copy-on-write region"));
        rule.use(count_fact(id + "_pages", long(c.pages), "its 4 KiB pages"));
        rule.use(count_fact(id + "_read_faults", c.child.read_faults, "minor faults while the child read every page"));
        rule.use(
            count_fact(id + "_write_faults", c.child.write_faults, "minor faults while the child wrote every page"));
        regions += fmt::format(
            "{}{{{}_bytes}}: {{{}_read_faults:count fault}} reading, {{{}_write_faults}} writing {{{}_pages:count "
            "page}}",
            regions.empty() ? "" : "; ", id, id, id, id, id);
    }
    rule.use(flag_fact("copies_private", isolated, "each side's writes invisible to the other, at the same addresses"));
    const bool locked = rule.flag(flag_fact("mutex_locked_in_child", e.mutex.locked_in_child_without,
                                            "a mutex another thread held at the fork could not be taken in the child"));
    rule.use(number_fact("mutex_patience", e.mutex.waited_ms * 1e6, "ns", "how long the child's try-lock kept trying"));
    const std::string threads =
        "fork() in a process of {parent_threads:count thread} gave a child with {child_threads} in its task list, its "
        "tid {child_tid}" +
        std::string(tid_is_pid ? " (its pid {child_pid}: a new task)" : "") +
        ", not the forking thread's {forking_tid}; of the parent's {parent_other_threads} other threads, "
        "{parent_tids_in_child} exist there";
    const std::string last = e.cow.empty() ? std::string() : fmt::format("cow{}", e.cow.size());
    const std::string summary_cow =
        last.empty() ? ""
                     : fmt::format("; {{{0}_write_faults}} copy-on-write faults for {{{0}_pages}} pages written", last);
    if (t.child_threads != 1 || t.parent_tids_in_child > 0 || !new_task || !isolated)
        return rule.refuted(
            "fork did not copy exactly one new thread and a private address space: " + threads +
                "; copies private: "
                "{copies_private} (" +
                regions + ")",
            "{parent_threads:count thread} -> {child_threads} in the child, copies private: {copies_private}");
    if (!locked)
        return rule.refuted(
            threads +
                "; but a mutex another thread held at the fork could be taken in the child: fork did not "
                "copy the memory as it was",
            "a mutex held at fork was free in the child");
    std::string fix;
    if (e.mutex.lockable_in_child_with) {
        rule.use(
            flag_fact("atfork_handlers_fixed_it", true, "with pthread_atfork handlers the child could take the mutex"));
        fix = "; with pthread_atfork handlers the child could take it";
    }
    return rule.confirmed(
        threads + "; copy-on-write at the same addresses, the parent's bytes unchanged (" + regions +
            "); a mutex another thread held at the fork stayed locked in the child (its try-lock gave up after "
            "{mutex_patience})" +
            fix +
            ": only the calling thread is copied, as a new task; the others do not move, and their locks are "
            "copied as they were",
        "{parent_threads:count thread} -> {child_threads} in the child" + summary_cow +
            "; a mutex held at fork stayed "
            "locked in the child");
}

// ---------------------------------------------------------------------------------------------

std::vector<DemoOption> options() {
    return {{.name = "--sizes",
             .help = "Sizes of the copy-on-write region, whole MiB from 1M to 4G, like 1M,64M,1G",
             .full = "1M,16M,256M",
             .quick = "1M,16M",
             .type_name = "LIST"}};
}

// Every option resolved before anything is measured.
struct Setup {
    std::vector<std::size_t> sizes_mib;       // the copy-on-write regions (--sizes)
    std::chrono::milliseconds patience{300};  // how long the child tries the mutex (--quick: 100 ms)
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    const std::string& size_list = ctx.values.text("--sizes");
    const auto bytes = parse_byte_list(size_list, std::size_t(1) << 20, std::size_t(4) << 30);
    if (!bytes ||
        std::any_of(bytes->begin(), bytes->end(), [](std::size_t b) { return b % (std::size_t(1) << 20) != 0; }))
        throw UsageError(fmt::format("--sizes {}: give whole MiB from 1M to 4G, like 1M,64M,1G", size_list));
    for (std::size_t b : *bytes) s.sizes_mib.push_back(b >> 20);
    if (ctx.options.quick) s.patience = std::chrono::milliseconds(100);
    return s;
}

Evidence measure(const Setup& setup) {
    Evidence e;
    for (auto mib : setup.sizes_mib) e.cow.push_back(copy_on_write(mib));
    e.threads = threads_at_fork(3);
    e.mutex = mutex_at_fork(setup.patience);
    return e;
}

void present(Result& result, const Evidence& e) {
    auto& c = result.add_table("1. Copy-on-write after fork(): the child reads every page, then writes every page",
                               {{"region", "bytes"},
                                {"pages", "count"},
                                {"faults reading", "count"},
                                {"faults writing", "count"},
                                {"time per page read", "ns"},
                                {"time per page copied", "ns"},
                                "same address",
                                "parent's bytes after"});
    for (const auto& r : e.cow) {
        c.rows.push_back({double(r.mib) * 1024 * 1024, double(r.pages), double(r.child.read_faults),
                          double(r.child.write_faults), r.child.read_ns / double(r.pages),
                          r.child.write_ns / double(r.pages), r.same_address ? "yes" : "no",
                          r.parent_unchanged ? "unchanged" : "changed"});
        result.add_metric(fmt::format("cow_ns_per_page_{}mib", r.mib), r.child.write_ns / double(r.pages), "ns",
                          fmt::format("child's write to a page shared after fork (the copy), {} MiB", r.mib));
        result.add_metric(fmt::format("cow_write_faults_{}mib", r.mib), double(r.child.write_faults), "count",
                          fmt::format("minor faults while the child wrote every page of {} MiB", r.mib));
    }
    c.note =
        "Minor faults from getrusage(RUSAGE_SELF) in the child. Reading a shared page costs no fault: fork copied the "
        "page tables, not the pages. The first write to each page faults once and copies 4 KiB (THP off for the "
        "region).";

    auto& t = result.add_table("2. fork() while 4 threads run", {"what", {"value", "count"}});
    t.rows.push_back({"threads in the parent at fork (/proc/self/task)", double(e.threads.parent_threads)});
    t.rows.push_back({"threads in the child", double(e.threads.child_threads)});
    t.rows.push_back({"the parent's other thread ids present in the child", double(e.threads.parent_tids_in_child)});
    t.rows.push_back({"tid of the forking thread in the parent", double(e.threads.forking_tid)});
    t.rows.push_back({"the child's pid", double(e.threads.child_pid)});
    t.rows.push_back({"its one thread's tid", double(e.threads.child_tid)});
    t.note =
        "The child's only thread continues the forking thread's code as a new kernel task; the other threads were not "
        "copied: a thread cannot leave its process.";

    auto& m = result.add_table("3. A mutex held by another thread when fork() is called",
                               {"case", "the child's try-lock", {"tried for", "ns"}});
    m.rows.push_back({"a thread holds it across fork()",
                      e.mutex.locked_in_child_without ? "gave up: locked, its owner not copied" : "got it",
                      e.mutex.waited_ms * 1e6});
    m.rows.push_back({"pthread_atfork handlers take it before fork and release it on both sides",
                      e.mutex.lockable_in_child_with ? "got it" : "gave up", Cell{}});
    m.note =
        "What to do instead: exec soon after fork (only async-signal-safe calls in between), or posix_spawn, which "
        "never "
        "runs the parent's code in the child; pthread_atfork is the last resort for libraries.";
}

// The plan: the options, the three experiments, their tables, the rule.
Result run(const DemoContext& ctx) {
    const Evidence e = measure(read_setup(ctx));
    Result result;
    present(result, e);
    result.add_decision(decide_t6(e));
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "fork_semantics",
        .title = "fork copies: one thread, a copy-on-write address space, and the locks as they were",
        .claims = {"T6"},
        .rules = {kT6Rule},
        .default_timeout_s = 60,
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::fork_semantics

PROCLAB_DEMO_MAIN(proclab::fork_semantics::spec)
