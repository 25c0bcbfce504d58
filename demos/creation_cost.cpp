// creation_cost: claim T8 of ../shared/seed/claims.md.
//
//   T8  Creating a thread is costly, so we work with a thread pool.
//
// Method: every operation below is timed one at a time on CLOCK_MONOTONIC after a warm-up, many
// times; median, p99 and max reported, the clock's overhead subtracted.
//   1. std::thread create + join; pthread_create with a 64 KiB stack + join; handing an empty task
//      to proclab's thread pool and waiting for it (the pool already running); fork + the child's
//      _exit + waitpid; vfork + _exit + waitpid; posix_spawn of a tiny program (/bin/true) + wait;
//      fork + exec of the same + wait; Boost.Process v2 spawn of the same + wait.
//   2. fork's cost against the parent's size: the parent touches 0, 64, 256, 1024 MiB (capped by
//      available memory; --quick: 0, 64) of private memory, then fork + _exit + wait is timed; the
//      cost per page (its page-table entry is copied) from the slope; the same with transparent huge
//      pages where the system offers them (one entry per 2 MiB); vfork and posix_spawn beside it.
//   3. A pool against a thread per task, over task sizes from ~100 ns to ~1 ms of work: where the
//      pool stops paying off and where thread creation stops mattering.
//
// Clean conditions: every process-creation figure is timed from a single-threaded parent (no pool
// thread alive: the pool is created after them), with the parent's thread count and RSS printed
// beside it. Beside it, the same fork+_exit+waitpid in a fresh copy of this program (exec'd, one
// thread, small RSS: `--child fork-reference`), as the reference a minimal program gives; and fork
// from this parent running 2 and 4 threads (the extra ones blocked), its own row: a multi-threaded
// parent's fork costs more. T8's verdict comes from R trials of thread create+join against a pool
// hand-off (--trials), with the interference around each.
//
// Caveats: in a virtual machine fork is slower (page-table copies and faults go through nested
// paging). /bin/true is a dynamically linked program: exec includes loading libc. The pool's
// hand-off is a cross-thread round trip, so it includes one wake-up unless a worker spins.

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/work.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "proclab/stats.hpp"
#include "proclab/thread_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace proclab::creation_cost {

constexpr double kCostlyRatio = 3.0;  // thread creation >= 3x a pool hand-off: "costly"
constexpr double kInterferenceMargin = 0.15;  // other load above 15% of the CPUs: a refutation is not trusted

// ---------------------------------------------------------------------------------------------
// Timing one operation many times.

Summary time_each(int warmup, int count, double clock_overhead, const std::function<void()>& op) {
    for (int i = 0; i < warmup; ++i) op();
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const Nanos t0 = now_ns();
        op();
        samples.push_back(double(now_ns() - t0));
    }
    return summarize(subtract_overhead(samples, clock_overhead));
}

void reap(pid_t pid, const char* what) {
    if (pid < 0) throw_errno(what);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(fmt::format("{}: the child ended with {}", what, ExitStatus{status}.describe()));
}

// The raw calls, each a complete create-and-reap.
void thread_create_join() { std::thread([] {}).join(); }

void pthread_small_stack() {
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t;
    if (::pthread_create(&t, &attr, [](void*) -> void* { return nullptr; }, nullptr) != 0) throw HarnessError(EAGAIN, "pthread_create");
    ::pthread_attr_destroy(&attr);
    ::pthread_join(t, nullptr);
}

// Raw fork, not ChildProcess: the point is the system call's own cost, and the child does nothing
// but exit. Ctrl-C and --timeout are held off until it is reaped (two sigprocmask calls, well
// under a microsecond), so no signal can leave it behind.
void fork_exit_wait() {
    cleanup::SignalBlock block;
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    reap(pid, "fork");
}

void vfork_exit_wait() {
    cleanup::SignalBlock block;
    const pid_t pid = ::vfork();
    if (pid == 0) ::_exit(0);
    reap(pid, "vfork");
}

void posix_spawn_wait(const std::string& program) {
    cleanup::SignalBlock block;
    pid_t pid = -1;
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    const int err = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    if (err != 0) throw HarnessError(err, "posix_spawn " + program);
    reap(pid, "posix_spawn");
}

void fork_exec_wait(const std::string& program) {
    cleanup::SignalBlock block;
    const pid_t pid = ::fork();
    if (pid == 0) {
        char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
        ::execv(program.c_str(), argv);
        ::_exit(127);
    }
    reap(pid, "fork+exec");
}

// ---------------------------------------------------------------------------------------------
// The conditions a cost is timed under: the parent's threads and resident memory.

struct ParentConditions {
    int threads = 0;
    double rss_bytes = 0;
    int pinned_cpu = -1;  // the one CPU the timing thread may run on; -1: more than one
};

ParentConditions parent_conditions() {
    ParentConditions c;
    cpu_set_t mask;
    if (::sched_getaffinity(0, sizeof(mask), &mask) == 0 && CPU_COUNT(&mask) == 1)
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &mask)) c.pinned_cpu = cpu;
    if (auto text = read_small_file("/proc/self/status")) {
        if (auto v = status_field(*text, "Threads")) c.threads = std::stoi(*v);
        if (auto v = status_field(*text, "VmRSS")) c.rss_bytes = std::stod(*v) * 1024;  // "1234 kB"
    }
    return c;
}

std::string describe(const ParentConditions& c) {
    return fmt::format("{} thread{}, RSS {}, {}", c.threads, c.threads == 1 ? "" : "s", format_value(c.rss_bytes, "bytes"),
                       c.pinned_cpu >= 0 ? fmt::format("pinned to CPU {}", c.pinned_cpu) : "not pinned");
}

// `creation_cost --child fork-reference COUNT`: fork + _exit + waitpid timed in a fresh process
// (exec'd, one thread, nothing else loaded), printed as one JSON line.
int child_fork_reference(const std::vector<std::string>& args) {
    const int count = args.empty() ? 100 : std::clamp(std::stoi(args[0]), 1, 100000);
    const double overhead = calibrate_clock(2000).read_overhead_ns;
    const auto conditions = parent_conditions();
    const Summary s = time_each(5, count, overhead, fork_exit_wait);
    std::cout << Json{{"median_ns", s.median}, {"p99_ns", s.p99}, {"count", s.count}, {"threads", conditions.threads},
                      {"rss_bytes", conditions.rss_bytes}, {"pinned_cpu", conditions.pinned_cpu}}
                     .dump()
              << std::endl;
    return 0;
}

struct Reference {
    bool ran = false;
    std::string why_not;
    Summary fork;
    ParentConditions conditions;
};

Reference fork_reference(const std::filesystem::path& self, int count) {
    Reference r;
    auto run = run_captured(self, {"--child", "fork-reference", std::to_string(count)}, {.timeout = std::chrono::seconds(60)});
    if (!run.status.exited() || run.status.exit_code() != 0) {
        r.why_not = "the reference process ended: " + run.status.describe();
        return r;
    }
    try {
        const auto j = Json::parse(run.out);
        r.fork.median = j.at("median_ns").get<double>();
        r.fork.p99 = j.at("p99_ns").get<double>();
        r.fork.count = j.at("count").get<std::size_t>();
        r.conditions.threads = j.at("threads").get<int>();
        r.conditions.rss_bytes = j.at("rss_bytes").get<double>();
        r.conditions.pinned_cpu = j.at("pinned_cpu").get<int>();
        r.ran = true;
    } catch (const std::exception& e) {
        r.why_not = std::string("the reference process printed no usable result: ") + e.what();
    }
    return r;
}

// Threads that do nothing but wait, so a fork can be timed from a parent running `n` threads.
class BlockedThreads {
public:
    explicit BlockedThreads(int n) {
        for (int i = 0; i < n; ++i)
            threads_.emplace_back([this] {
                std::unique_lock lock(mutex_);
                ++started_;
                started_cv_.notify_all();
                stop_cv_.wait(lock, [this] { return stop_; });
            });
        std::unique_lock lock(mutex_);
        started_cv_.wait(lock, [&] { return started_ == n; });
    }
    BlockedThreads(const BlockedThreads&) = delete;
    BlockedThreads& operator=(const BlockedThreads&) = delete;
    ~BlockedThreads() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        stop_cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable started_cv_, stop_cv_;
    int started_ = 0;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------
// 2. fork against the parent's size.

struct SizePoint {
    std::size_t mib;
    bool huge_pages;
    double fork_ns, vfork_ns, spawn_ns;
};

SizePoint fork_at_size(std::size_t mib, bool huge, int count, double clock_overhead, const std::string& program) {
    Mapping region;
    if (mib > 0) {
        region = Mapping::anonymous(mib << 20, false);
        ::madvise(region.data(), region.size(), huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        auto* bytes = static_cast<volatile char*>(region.data());
        for (std::size_t off = 0; off < region.size(); off += 4096) bytes[off] = 1;  // every page present
    }
    SizePoint p{mib, huge, 0, 0, 0};
    p.fork_ns = time_each(2, count, clock_overhead, fork_exit_wait).median;
    p.vfork_ns = time_each(2, count, clock_overhead, vfork_exit_wait).median;
    p.spawn_ns = time_each(2, count, clock_overhead, [&] { posix_spawn_wait(program); }).median;
    return p;
}

std::optional<std::size_t> available_mib() {
    auto text = read_small_file("/proc/meminfo");
    if (!text) return std::nullopt;
    if (auto v = status_field(*text, "MemAvailable")) return std::stoull(*v) / 1024;  // "12345 kB"
    return std::nullopt;
}

bool thp_offered() {
    auto text = read_small_file("/sys/kernel/mm/transparent_hugepage/enabled");
    return text && (text->find("[always]") != std::string::npos || text->find("[madvise]") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// 3. A pool against a thread per task.

struct TaskSizePoint {
    double work_ns;     // one task's work, measured alone
    int tasks;
    double pool_ns;     // per task, through the pool
    double threads_ns;  // per task, one std::thread each (started in batches of CPUs, then joined)
};

// The pool exists only for its half: the thread-per-task half runs with no pool worker waiting.
TaskSizePoint pool_vs_threads(std::uint64_t iterations, int tasks, unsigned cpus) {
    TaskSizePoint p{0, tasks, 0, 0};
    {
        const Nanos t0 = now_ns();
        for (int i = 0; i < 20; ++i) (void)busy_work(iterations);
        p.work_ns = double(now_ns() - t0) / 20;
    }
    {
        ThreadPool pool;
        const Nanos t0 = now_ns();
        TaskGroup group(pool);
        for (int i = 0; i < tasks; ++i) group.run([iterations] { (void)busy_work(iterations); });
        group.wait();
        p.pool_ns = double(now_ns() - t0) / tasks;
    }
    {
        const Nanos t0 = now_ns();
        for (int done = 0; done < tasks;) {
            std::vector<std::thread> batch;
            for (unsigned k = 0; k < cpus && done < tasks; ++k, ++done) batch.emplace_back([iterations] { (void)busy_work(iterations); });
            for (auto& t : batch) t.join();
        }
        p.threads_ns = double(now_ns() - t0) / tasks;
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
// The verdict: a pure function, unit-tested in tests/unit/test_creation_cost.cpp.

struct Costs {
    double thread_ns = 0, pool_ns = 0, fork_ns = 0, spawn_ns = 0;
    Interference interference;
};

// T8: what would refute it is creating a thread costing no more than handing a task to a running
// pool, measured with the CPUs free; under load a hand-off waits for a worker to be scheduled, so
// a refutation then is not trusted.
ClaimVerdict decide_t8(const Costs& c) {
    if (c.pool_ns <= 0 || c.thread_ns <= 0) return {"T8", Verdict::not_measured, "the thread or the pool measurement is missing"};
    const double ratio = c.thread_ns / c.pool_ns;
    const std::string evidence = fmt::format(
        "std::thread create+join median {} against {} to hand an empty task to a running pool ({:.1f}x); fork+exit+wait {} "
        "({:.0f}x the pool), posix_spawn+wait {}",
        format_value(c.thread_ns, "ns"), format_value(c.pool_ns, "ns"), ratio, format_value(c.fork_ns, "ns"), c.fork_ns / c.pool_ns,
        format_value(c.spawn_ns, "ns"));
    if (ratio < kCostlyRatio && c.interference.exceeds(kInterferenceMargin))
        return {"T8", Verdict::not_measured,
                fmt::format("{}: the hand-off waits for a pool worker to get a CPU, and other load held them: {}", evidence,
                            c.interference.describe())};
    if (ratio <= 1) return {"T8", Verdict::refuted, "creating a thread was no dearer than a pool hand-off: " + evidence};
    if (ratio < kCostlyRatio)
        return {"T8", Verdict::nuanced, fmt::format("{}: dearer, but less than {:.0f}x: a pool pays off only for short tasks", evidence, kCostlyRatio)};
    return {"T8", Verdict::confirmed, evidence};
}

// ---------------------------------------------------------------------------------------------

Result run(const DemoContext& ctx) {
    Result result;
    const bool quick = ctx.options.quick;
    const double overhead = ctx.clock.read_overhead_ns;
    const unsigned cpus = static_cast<unsigned>(ctx.env.affinity_cpus.size());
    std::string program = "/bin/true";
    if (::access(program.c_str(), X_OK) != 0) program = find_program("true").string();
    if (program.empty()) throw std::runtime_error("no 'true' program to spawn (looked in /bin and on PATH)");

    const int threads_n = ctx.repeat(2000, 300);
    const int procs_n = std::max(100, threads_n / 8);  // forks are cheap enough to take 100 even in a quick run
    const int exec_n = std::max(10, threads_n / 10);
    result.config.repeat = threads_n;

    struct Row {
        std::string id;
        std::string what;
        Summary s;
        ParentConditions conditions;
    };
    std::vector<Row> rows;
    auto timed = [&](std::string id, std::string what, int warmup, int count, const std::function<void()>& op) {
        const auto conditions = parent_conditions();
        rows.push_back({std::move(id), std::move(what), time_each(warmup, count, overhead, op), conditions});
    };
    // Processes first, from this single-threaded parent: no pool thread is alive yet. Pinned to one
    // CPU, parent and child alike (the child inherits the mask): unpinned, whether the child starts
    // on the parent's CPU or another one makes fork's figure bimodal (a cross-CPU wake-up, dear in
    // a VM), which is placement, not fork.
    std::optional<ScopedPin> pinned;
    if (!ctx.env.affinity_cpus.empty()) pinned.emplace(ctx.env.affinity_cpus.front());
    timed("fork", "fork + _exit + waitpid", 5, procs_n, fork_exit_wait);
    timed("vfork", "vfork + _exit + waitpid", 5, procs_n, vfork_exit_wait);
    timed("posix_spawn", fmt::format("posix_spawn {} + waitpid", program), 3, exec_n, [&] { posix_spawn_wait(program); });
    timed("fork_exec", fmt::format("fork + exec {} + waitpid", program), 3, exec_n, [&] { fork_exec_wait(program); });
    timed("boost_process", fmt::format("Boost.Process v2 spawn {} + wait", program), 3, exec_n, [&] {
        const auto st = spawn_and_wait(program, {});
        if (!st.exited() || st.exit_code() != 0) throw std::runtime_error("Boost.Process child: " + st.describe());
    });
    const Reference reference = fork_reference(ctx.self_exe, procs_n);
    // fork from a parent running more threads (the extra ones blocked in a wait).
    for (int n : {2, 4}) {
        const BlockedThreads extra(n - 1);
        timed(fmt::format("fork_parent_{}_threads", n), fmt::format("fork + _exit + waitpid, parent running {} threads", n), 5, procs_n,
              fork_exit_wait);
    }
    pinned.reset();
    // Threads, with no other thread of ours alive.
    timed("thread_create_join", "std::thread create + join", threads_n / 10, threads_n, thread_create_join);
    timed("pthread_small_stack", "pthread_create, 64 KiB stack, + join", threads_n / 10, threads_n, pthread_small_stack);
    // The pool exists only while its hand-off is timed (and in section 3), so nothing above ran beside it.
    std::size_t pool_workers = 0;
    {
        ThreadPool pool;  // CPUs - 1 workers: the waiting thread helps
        pool_workers = pool.size();
        timed("pool_handoff", "pool: hand over an empty task, wait for it", threads_n / 10, threads_n, [&] { pool.submit([] {}).get(); });
    }
    const auto row_of = [&](const std::string& id) -> const Row& {
        return *std::find_if(rows.begin(), rows.end(), [&](const Row& r) { return r.id == id; });
    };

    // R trials for T8's verdict: thread create+join with no pool alive, then a pool made for the
    // hand-off and ended after it.
    std::vector<double> thread_medians, pool_medians;
    std::vector<ClaimVerdict> t8_trials;
    std::vector<Interference> trial_interference;
    const int trials = ctx.trials();
    const int per_trial = std::max(20, threads_n / trials);
    for (int r = 0; r < trials; ++r) {
        const InterferenceProbe probe(ctx.env.affinity_cpus);
        const Summary th = time_each(per_trial / 10, per_trial, overhead, thread_create_join);
        Summary po;
        {
            ThreadPool trial_pool;
            po = time_each(per_trial / 10, per_trial, overhead, [&] { trial_pool.submit([] {}).get(); });
        }
        Costs c{th.median, po.median, row_of("fork").s.median, row_of("posix_spawn").s.median, probe.stop()};
        thread_medians.push_back(th.median);
        pool_medians.push_back(po.median);
        trial_interference.push_back(c.interference);
        t8_trials.push_back(decide_t8(c));
    }
    const double pool_median = row_of("pool_handoff").s.median;
    auto& t = result.add_table("1. Creating a thread or a process, and handing a task to a pool",
                               {"operation", "median", "p99", "max", "n", "vs the pool", "parent while timed"});
    for (const auto& r : rows) {
        t.rows.push_back({r.what, format_value(r.s.median, "ns"), format_value(r.s.p99, "ns"), format_value(r.s.max, "ns"),
                          std::to_string(r.s.count), fmt::format("{:.1f}x", r.s.median / pool_median), describe(r.conditions)});
        result.add_metric(r.id, r.s, "ns", r.what).headline =
            r.id == "fork" || r.id == "thread_create_join" || r.id == "pool_handoff" || r.id == "posix_spawn";
    }
    if (reference.ran) {
        t.rows.push_back({"fork + _exit + waitpid in a fresh process (reference)", format_value(reference.fork.median, "ns"),
                          format_value(reference.fork.p99, "ns"), "-", std::to_string(reference.fork.count),
                          fmt::format("{:.1f}x", reference.fork.median / pool_median), describe(reference.conditions)});
        result.add_metric("fork_reference", reference.fork.median, "ns", "fork+exit+wait in a fresh single-threaded copy of this program");
        result.add_metric("fork_vs_reference", row_of("fork").s.median / reference.fork.median, "ratio",
                          "this demo's fork against the fresh process's")
            .headline = true;
    } else {
        result.notes.push_back("The fresh-process fork reference did not run: " + reference.why_not + ".");
    }
    t.note = fmt::format(
        "Each operation timed alone, after a warm-up; {} threads, {} forks, {} execs. Processes are created from this parent "
        "while it runs one thread (no pool yet), pinned with its children to one CPU (placement would otherwise decide whether "
        "the child's exit wakes the parent across CPUs); 'parent running N threads' adds N-1 threads blocked in a wait, which a fork "
        "must still account for (the mm is shared: more to lock and flush). The reference is the same fork in a fresh exec'd "
        "copy of this program{}. The pool has {} worker(s) (one CPU is left to the thread that submits and helps) and is running "
        "already: its figure is a round trip to a worker and back.",
        threads_n, procs_n, exec_n,
        reference.ran ? fmt::format(": this demo's fork is {:.2f}x it", row_of("fork").s.median / reference.fork.median) : "",
        pool_workers);

    // Trials of T8.
    auto& tt = result.add_table(fmt::format("Trials: {} independent runs of thread create+join against a pool hand-off", trials),
                                {"trial", "interference", "thread create+join", "pool hand-off", "ratio", "T8"});
    for (int r = 0; r < trials; ++r) {
        const auto i = static_cast<std::size_t>(r);
        tt.rows.push_back({std::to_string(r + 1), trial_interference[i].known ? fmt::format("{:.1f}%", 100 * trial_interference[i].fraction()) : "unknown",
                           format_value(thread_medians[i], "ns"), format_value(pool_medians[i], "ns"),
                           fmt::format("{:.0f}x", thread_medians[i] / pool_medians[i]), std::string(to_string(t8_trials[i].verdict))});
    }
    tt.note = fmt::format("{} of each per trial (medians). T8 is refuted only if a thread cost no more than a hand-off in every "
                          "trial with the CPUs free (margin {:.0f}%).",
                          per_trial, 100 * kInterferenceMargin);
    result.config.trials = trials;

    // 2. fork against size (no pool alive: this parent runs one thread).
    std::vector<std::size_t> sizes{0, 64, 256, 1024};
    if (quick) sizes = {0, 64};
    const auto avail = available_mib();
    std::vector<std::string> skipped;
    std::vector<SizePoint> points;
    const int size_n = quick ? 5 : 15;
    const bool thp = thp_offered();
    if (!ctx.env.affinity_cpus.empty()) pinned.emplace(ctx.env.affinity_cpus.front());  // as in section 1
    for (auto mib : sizes) {
        if (avail && mib * 3 > *avail) {
            skipped.push_back(fmt::format("{} MiB (only {} MiB available)", mib, *avail));
            continue;
        }
        points.push_back(fork_at_size(mib, false, size_n, overhead, program));
        if (thp && mib > 0) points.push_back(fork_at_size(mib, true, size_n, overhead, program));
    }
    pinned.reset();
    auto& f = result.add_table("2. fork against the parent's size (every page touched first)",
                               {"parent memory", "pages", "fork+exit+wait", "per 4 KiB page", "vfork", "posix_spawn"});
    const double base = points.empty() ? 0 : points.front().fork_ns;
    for (const auto& p : points) {
        const double pages = double(p.mib) * 256;
        f.rows.push_back({fmt::format("{} MiB{}", p.mib, p.huge_pages ? " (THP)" : ""), fmt::format("{:.0f}", pages),
                          format_value(p.fork_ns, "ns"), p.mib ? format_value((p.fork_ns - base) / pages, "ns") : "-",
                          format_value(p.vfork_ns, "ns"), format_value(p.spawn_ns, "ns")});
        if (p.mib)
            result.add_metric(fmt::format("fork_{}mib{}", p.mib, p.huge_pages ? "_thp" : ""), p.fork_ns, "ns",
                              "fork+exit+wait with this much touched memory");
    }
    f.note = fmt::format(
        "Median of {} each, pinned to one CPU as above. fork copies the page tables (one entry per 4 KiB page, or per 2 MiB with THP) and marks the pages "
        "copy-on-write; vfork and posix_spawn copy nothing and stay flat. Transparent huge pages: {}.{}",
        size_n, thp ? "offered (rows marked THP use MADV_HUGEPAGE)" : "not offered here",
        skipped.empty() ? "" : fmt::format(" Skipped: {}.", fmt::join(skipped, ", ")));

    // 3. Pool against thread per task.
    auto& pt = result.add_table("3. A pool against one thread per task",
                                {"work per task", "tasks", "per task: pool", "per task: a thread each", "threads / pool",
                                 "thread creation's share"});
    std::vector<TaskSizePoint> sweep;
    std::uint64_t iterations = 50;  // about 100 ns; grown 10x per step
    for (int step = 0; step < 5; ++step, iterations *= 10) {
        const double approx_ns = 2.0 * double(iterations);
        const int tasks = std::clamp(int((quick ? 0.02e9 : 0.1e9) / approx_ns), 40, quick ? 2000 : 10000);
        sweep.push_back(pool_vs_threads(iterations, tasks, cpus));
    }
    for (const auto& p : sweep) {
        const double share = p.threads_ns > 0 ? std::max(0.0, 1.0 - p.pool_ns / p.threads_ns) : 0;
        pt.rows.push_back({format_value(p.work_ns, "ns"), std::to_string(p.tasks), format_value(p.pool_ns, "ns"),
                           format_value(p.threads_ns, "ns"), fmt::format("{:.2f}x", p.threads_ns / p.pool_ns),
                           fmt::format("{:.0f}%", 100 * share)});
    }
    pt.note = "Per task = wall time / tasks, all CPUs working. 'Thread creation's share' = how much of the thread-per-task "
              "time the pool saves. Where it falls to a few percent, creating a thread per task no longer matters.";

    Json raw;
    for (const auto& r : rows)
        raw["operations"].push_back(Json{{"what", r.what}, {"median_ns", r.s.median}, {"p99_ns", r.s.p99},
                                         {"parent_threads", r.conditions.threads}, {"parent_rss_bytes", r.conditions.rss_bytes}});
    for (const auto& p : points)
        raw["fork_vs_size"].push_back(Json{{"mib", p.mib}, {"thp", p.huge_pages}, {"fork_ns", p.fork_ns}, {"vfork_ns", p.vfork_ns},
                                           {"posix_spawn_ns", p.spawn_ns}});
    for (const auto& p : sweep)
        raw["pool_vs_threads"].push_back(Json{{"work_ns", p.work_ns}, {"pool_ns", p.pool_ns}, {"threads_ns", p.threads_ns}});
    result.raw_json = raw.dump();

    const ClaimVerdict t8 = decide_from_trials(t8_trials);
    result.add_verdict(t8, fmt::format("thread create+join {}, pool hand-off {} ({:.0f}x), fork {} [{} of {} trials]",
                                       format_value(row_of("thread_create_join").s.median, "ns"), format_value(pool_median, "ns"),
                                       row_of("thread_create_join").s.median / pool_median, format_value(row_of("fork").s.median, "ns"),
                                       t8.agreeing_trials(), t8.trial_verdicts.size()));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "creation_cost";
    s.title = "what it costs to create a thread or a process, against handing a task to a pool";
    s.claims = {"T8"};
    s.default_timeout_s = 180;
    s.run = run;
    s.child_modes = {{"fork-reference", child_fork_reference}};
    return s;
}

}  // namespace proclab::creation_cost

PROCLAB_DEMO_MAIN(proclab::creation_cost::spec)
