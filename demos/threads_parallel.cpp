// threads_parallel: claims T2 and T9 of ../shared/seed/claims.md.
//
//   T2  A process may run N threads; in some languages they run in parallel, not in Python.
//   T9  Python threads cannot run at the same time, only by time slicing.
//
// Method:
//   1. C++ threads: one fixed CPU-bound job (a chain of multiply-adds) split evenly across N
//      threads, N = 1 .. 2x CPUs; wall time (median of repetitions), speedup and efficiency
//      against N = 1, and each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID).
//   2. The same job under an emulated global interpreter lock, built the way CPython's is: a
//      thread must hold the lock to run; a thread that waits longer than the switch interval
//      (5 ms, CPython's default; --switch-interval) sets a drop request; the holder checks it
//      between chunks of work (CPython's eval breaker), drops the lock and waits until another
//      thread has taken it before asking again. Speedup, hand-overs, and a timeline of turns.
//   3. Real CPython, where python3 is installed: started through Boost.Process v2, the same kind
//      of pure-Python loop in 1 thread, N threads and N processes, and a case that releases the
//      GIL (sha256 of a large buffer) in 1 and N threads; the version, and whether the build is
//      free-threaded (sys._is_gil_enabled, Py_GIL_DISABLED).
//
// Verdicts come from R independent trials (--trials, default 5, --quick 3): each trial runs one
// thread, N = CPUs threads, the same N under the emulated GIL, and CPython, with the interference
// (other tasks' CPU time, steal: proclab/interference.hpp) measured around it. T2 is refuted only
// if CPUs were free and the threads still never ran at the same time; T9 only if the emulated lock
// let two threads run at once. Load decides nothing: above the margin, not-measured.
//
// Caveats: speedup needs free CPUs: other load, a VM's noisy neighbours and frequency boost (one
// busy core clocks higher than all) pull it below N. CPython's numbers depend on its version;
// free-threaded builds (3.13t and later) run pure-Python threads in parallel.

#include "proclab/affinity.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/interference.hpp"
#include "proclab/work.hpp"
#include "proclab/render.hpp"
#include "proclab/sched.hpp"
#include "proclab/spawn.hpp"
#include "proclab/stats.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <time.h>

namespace proclab::threads_parallel {

// Thresholds of the verdicts, stated once.
// Whether threads ran at the same time is measured directly: each thread's run intervals (from
// gaps in its clock readings) are overlaid, and the share of the wall time in which two or more
// ran at once is the overlap. It holds on a loaded machine, where speedups shrink.
constexpr double kOverlapParallel = 0.02;     // C++/emulated: at least 2% of the wall with 2+ running
constexpr double kInterferenceMargin = 0.15;  // other tasks + steal above 15% of the CPUs: CPUs were not free
// For CPython only CPU time / wall time ("busy CPUs") is known; processes are the control that
// shows whether a second CPU was free at all.
constexpr double kSerialBusy = 1.1;            // at most 1.1 CPUs busy on average: one at a time
constexpr double kParallelBusy = 1.3;          // at least 1.3 CPUs busy: ran at the same time
constexpr double kParallelEfficiency = 0.75;   // speedup >= 75% of N: parallel on free CPUs
constexpr Nanos kGapThreshold = 200'000;       // 10x a work chunk: a longer step is time off the CPU

struct Options {
    double switch_interval_ms = 5;
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--switch-interval", g_options.switch_interval_ms,
                   "The emulated GIL's switch interval in ms (CPython: sys.getswitchinterval(), 5 ms)")
        ->check(CLI::Range(0.1, 1000.0))
        ->type_name("MS");
}

// ---------------------------------------------------------------------------------------------
// The work: chunks of proclab::busy_work, a multiply-add chain the compiler cannot remove.

double thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// speedup = T(1) / T(N); efficiency = speedup / N.
double speedup(double wall_one, double wall_n) { return wall_n > 0 ? wall_one / wall_n : 0; }
double efficiency(double speedup_value, int n) { return n > 0 ? speedup_value / n : 0; }

struct RunInterval {
    int thread;
    Nanos start, end;
};

// Time during which two or more of the intervals overlap (a sweep over their ends).
Nanos overlap_ns(const std::vector<RunInterval>& intervals) {
    std::vector<std::pair<Nanos, int>> events;
    for (const auto& iv : intervals) {
        events.emplace_back(iv.start, +1);
        events.emplace_back(iv.end, -1);
    }
    std::sort(events.begin(), events.end());  // at equal times -1 sorts first: touching is not overlapping
    Nanos total = 0, since = 0;
    int running = 0;
    for (const auto& [t, delta] : events) {
        if (running >= 2) total += t - since;
        running += delta;
        since = t;
    }
    return total;
}

// ---------------------------------------------------------------------------------------------
// The emulated GIL, after CPython's Python/ceval_gil.c.

class EmulatedGil {
public:
    explicit EmulatedGil(std::chrono::microseconds interval) : interval_(interval) {}

    // Waits for the lock. A waiter that sees no hand-over within one interval asks the holder
    // to drop it.
    void take() {
        std::unique_lock lock(mutex_);
        while (locked_) {
            const auto seen = switches_;
            if (!released_.wait_for(lock, interval_, [&] { return !locked_; }) && locked_ && switches_ == seen)
                drop_request_.store(true, std::memory_order_relaxed);
        }
        locked_ = true;
        ++switches_;
        drop_request_.store(false, std::memory_order_relaxed);
        taken_.notify_all();
    }

    void release() {
        std::lock_guard lock(mutex_);
        locked_ = false;
        released_.notify_one();
    }

    // The eval breaker: between chunks of work. Returns true when the lock changed hands.
    bool check_drop_request() {
        if (!drop_request_.load(std::memory_order_relaxed)) return false;
        {
            std::unique_lock lock(mutex_);
            locked_ = false;
            const auto mine = switches_;
            released_.notify_one();
            // FORCE_SWITCHING: wait until another thread took it, so the same thread cannot win again.
            taken_.wait(lock, [&] { return switches_ != mine; });
        }
        take();
        return true;
    }

    std::uint64_t switches() const {
        std::lock_guard lock(mutex_);
        return switches_;
    }

private:
    std::chrono::microseconds interval_;
    mutable std::mutex mutex_;
    std::condition_variable released_, taken_;
    bool locked_ = false;
    std::uint64_t switches_ = 0;
    std::atomic<bool> drop_request_{false};
};

// ---------------------------------------------------------------------------------------------
// One run: `total_chunks` chunks split across n threads, with or without the emulated GIL.

struct RunResult {
    int n = 0;
    double wall_ns = 0;
    std::vector<double> thread_cpu_ns;
    std::uint64_t gil_switches = 0;
    std::vector<RunInterval> intervals;  // when each thread ran, from its clock gaps
    Nanos start = 0;
    double overlap() const { return wall_ns > 0 ? double(overlap_ns(intervals)) / wall_ns : 0; }
    // CPU time of all threads / wall time: how many CPUs were busy on average.
    double busy_cpus() const {
        double cpu = 0;
        for (double c : thread_cpu_ns) cpu += c;
        return wall_ns > 0 ? cpu / wall_ns : 0;
    }
};

RunResult run_threads(int n, std::uint64_t total_chunks, std::uint64_t chunk_iterations, EmulatedGil* gil) {
    RunResult r;
    r.n = n;
    r.thread_cpu_ns.assign(static_cast<std::size_t>(n), 0);
    std::vector<std::vector<RunInterval>> intervals(static_cast<std::size_t>(n));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            const std::uint64_t chunks = total_chunks / std::uint64_t(n) + (std::uint64_t(i) < total_chunks % std::uint64_t(n) ? 1 : 0);
            auto& mine = intervals[std::size_t(i)];
            mine.reserve(1024);
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            const double cpu0 = thread_cpu_ns();
            std::uint64_t x = std::uint64_t(i);
            if (gil) gil->take();
            GapDetector gaps(kGapThreshold, now_ns());
            for (std::uint64_t c = 0; c < chunks; ++c) {
                x = busy_work(chunk_iterations, x);
                if (gil) gil->check_drop_request();
                if (gaps.step(now_ns())) mine.push_back({i, gaps.closed().start, gaps.closed().end});
            }
            mine.push_back({i, gaps.current().start, gaps.current().end});
            if (gil) gil->release();
            r.thread_cpu_ns[std::size_t(i)] = thread_cpu_ns() - cpu0 + double(x & 0);
        });
    }
    while (ready.load() < n) std::this_thread::yield();
    r.start = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    r.wall_ns = double(now_ns() - r.start);
    if (gil) r.gil_switches = gil->switches();
    for (auto& v : intervals) r.intervals.insert(r.intervals.end(), v.begin(), v.end());
    return r;
}

// ---------------------------------------------------------------------------------------------
// Real CPython.

// Prints one JSON line. The work is split evenly, so every variant does the same total.
constexpr const char* kPythonScript = R"PY(
import hashlib, json, os, resource, sys, sysconfig, threading, time
n, work, hashes, mib = (int(a) for a in sys.argv[1:5])

def spin(k):
    x = 0
    for i in range(k):
        x += i * i
    return x

buf = b"x" * (mib << 20)
def hash_many(k):
    for _ in range(k):
        hashlib.sha256(buf).digest()

def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime

# Each returns [wall seconds, CPU seconds used meanwhile]: CPU / wall is how many CPUs were busy.
def in_threads(count, fn, arg):
    ts = [threading.Thread(target=fn, args=(arg,)) for _ in range(count)]
    c0, t0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return [time.perf_counter() - t0, cpu(resource.RUSAGE_SELF) - c0]

def in_processes(count, fn, arg):
    c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            fn(arg)
            os._exit(0)
        pids.append(pid)
    for p in pids:
        os.waitpid(p, 0)
    return [time.perf_counter() - t0, cpu(resource.RUSAGE_CHILDREN) - c0]

spin(work // 20)  # warm-ups: the interpreter's loop, and hashlib with the buffer's pages
hash_many(1)
gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
print(json.dumps({
    "version": sys.version.split()[0],
    "implementation": sys.implementation.name,
    "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": gil,
    "switch_interval_s": sys.getswitchinterval(),
    "one_thread_s": in_threads(1, spin, work),
    "threads_s": in_threads(n, spin, work // n),
    "processes_s": in_processes(n, spin, work // n),
    "hash_one_thread_s": in_threads(1, hash_many, hashes),
    "hash_threads_s": in_threads(n, hash_many, hashes // n),
}))
)PY";

// A run's wall time and the CPU time used meanwhile: cpu / wall = how many CPUs were busy on
// average, which tells parallel from serial even on a loaded machine, where speedups shrink.
struct Timing {
    double wall = 0, cpu = 0;
    double parallelism() const { return wall > 0 ? cpu / wall : 0; }
};

struct CPython {
    bool ran = false;
    std::string why_not;
    std::string version, implementation;
    bool free_threaded_build = false, gil_enabled = true;
    Timing one, threads, processes, hash_one, hash_threads;
    int n = 0;
};

CPython run_cpython(int n, bool quick) {
    CPython py;
    py.n = n;
    const auto exe = find_program("python3");
    if (exe.empty()) {
        py.why_not = "python3 is not installed (not on PATH)";
        return py;
    }
    const std::string work = quick ? "400000" : "1500000";
    const std::string hashes = std::to_string(n * (quick ? 2 : 4));
    const std::string mib = quick ? "8" : "32";
    auto run = run_captured(exe, {"-c", kPythonScript, std::to_string(n), work, hashes, mib}, {.timeout = std::chrono::seconds(120)});
    if (!run.status.exited() || run.status.exit_code() != 0) {
        auto err = run.err.substr(run.err.rfind('\n', run.err.size() >= 2 ? run.err.size() - 2 : 0) + 1);
        py.why_not = fmt::format("python3 ({}) ended: {}: {}", exe.string(), run.status.describe(), err);
        while (!py.why_not.empty() && py.why_not.back() == '\n') py.why_not.pop_back();
        return py;
    }
    try {
        const auto j = Json::parse(run.out);
        py.ran = true;
        py.version = j.at("version");
        py.implementation = j.at("implementation");
        py.free_threaded_build = j.at("free_threaded_build");
        py.gil_enabled = j.at("gil_enabled");
        auto timing = [&](const char* key) { return Timing{j.at(key).at(0).get<double>(), j.at(key).at(1).get<double>()}; };
        py.one = timing("one_thread_s");
        py.threads = timing("threads_s");
        py.processes = timing("processes_s");
        py.hash_one = timing("hash_one_thread_s");
        py.hash_threads = timing("hash_threads_s");
    } catch (const std::exception& e) {
        py.ran = false;
        py.why_not = fmt::format("python3 printed no usable result: {}", e.what());
    }
    return py;
}

// ---------------------------------------------------------------------------------------------
// Verdicts: pure functions, unit-tested in tests/unit/test_threads_parallel.cpp.

struct Evidence {
    int cpus = 0;
    int n_at_cpus = 0;  // the thread count compared (= CPUs, at least 2)
    Interference interference;                // around the trial
    double cpp_speedup = 0, cpp_overlap = 0;  // C++ threads at n_at_cpus
    double gil_speedup = 0, gil_overlap = 0;  // emulated GIL at n_at_cpus
    std::uint64_t gil_switches = 0;
    CPython python;
};

std::string python_summary(const CPython& py) {
    return fmt::format("CPython {}{}: a pure-Python loop in {} threads kept {:.2f} CPUs busy ({:.2f}x), in {} processes {:.2f} "
                       "({:.2f}x); sha256 in {} threads {:.2f} ({:.2f}x)",
                       py.version, py.gil_enabled ? "" : " (free-threaded, GIL off)", py.n, py.threads.parallelism(),
                       speedup(py.one.wall, py.threads.wall), py.n, py.processes.parallelism(),
                       speedup(py.one.wall, py.processes.wall), py.n, py.hash_threads.parallelism(),
                       speedup(py.hash_one.wall, py.hash_threads.wall));
}

ClaimVerdict decide_t2(const Evidence& e) {
    if (e.cpus < 2)
        return {"T2", Verdict::not_measured, "one CPU: no two threads can run at the same time, in any language"};
    const std::string evidence = fmt::format(
        "C++: {} threads on {} CPUs ran at the same time {:.0f}% of the wall time and finished {:.2f}x faster than one "
        "(efficiency {:.0f}%); {}",
        e.n_at_cpus, e.cpus, 100 * e.cpp_overlap, e.cpp_speedup, 100 * efficiency(e.cpp_speedup, e.n_at_cpus), e.interference.describe());
    const std::string python = e.python.ran ? "; " + python_summary(e.python) : "; CPython not measured (" + e.python.why_not + ")";
    const bool cpus_taken = e.interference.exceeds(kInterferenceMargin);
    if (e.cpp_overlap < kOverlapParallel && cpus_taken)
        return {"T2", Verdict::not_measured,
                fmt::format("the CPUs were not free (margin {:.0f}%), and the threads never got two at once: {}", 100 * kInterferenceMargin,
                            evidence)};
    if (e.cpp_overlap < kOverlapParallel)
        return {"T2", Verdict::refuted, "the CPUs were free and C++ threads still never ran at the same time: " + evidence + python};
    if (e.cpp_speedup >= kParallelEfficiency * e.n_at_cpus) return {"T2", Verdict::confirmed, evidence + python};
    if (cpus_taken)
        return {"T2", Verdict::not_measured,
                fmt::format("the threads ran at the same time, but other tasks took the CPUs, so the speedup says nothing about "
                            "the OS (margin {:.0f}%): {}",
                            100 * kInterferenceMargin, evidence)};
    return {"T2", Verdict::nuanced,
            fmt::format("{}{}: parallel, but the speedup stayed below {:.0f}% of N with the CPUs free (memory bandwidth, "
                        "frequency scaling or SMT siblings)",
                        evidence, python, kParallelEfficiency * 100)};
}

ClaimVerdict decide_t9(const Evidence& e) {
    if (e.cpus < 2)
        return {"T9", Verdict::not_measured, "one CPU: nothing runs at the same time, so a lock's effect cannot be told apart"};
    std::string evidence = fmt::format("emulated GIL: {} threads ran at the same time {:.1f}% of the wall time, {:.2f}x ({} hand-overs)",
                                       e.n_at_cpus, 100 * e.gil_overlap, e.gil_speedup, e.gil_switches);
    // The lock is real mutual exclusion: load cannot make two holders run at once.
    if (e.gil_overlap >= kOverlapParallel) return {"T9", Verdict::refuted, "the emulated lock did not serialise: " + evidence};
    const auto& py = e.python;
    if (!py.ran) return {"T9", Verdict::confirmed, evidence + "; real CPython not measured: " + py.why_not};
    evidence += "; " + python_summary(py);
    if (py.threads.parallelism() >= kParallelBusy)
        return {"T9", Verdict::nuanced,
                evidence + (py.gil_enabled ? ": pure-Python threads ran at the same time"
                                           : ": this free-threaded build runs Python threads in parallel")};
    if (py.hash_threads.parallelism() >= kParallelBusy)
        return {"T9", Verdict::nuanced,
                evidence + ": the GIL serialises bytecode, not everything; code that releases it (hashing, I/O, native "
                           "code) runs in parallel"};
    // Neither kind of CPython thread used a second CPU: that tells something only if one was free.
    if (py.processes.parallelism() < kParallelBusy || e.interference.exceeds(kInterferenceMargin))
        return {"T9", Verdict::not_measured,
                fmt::format("{}; whether CPython's threads can use a second CPU could not be seen: its processes kept {:.2f} CPUs "
                            "busy, {}",
                            evidence, py.processes.parallelism(), e.interference.describe())};
    if (py.threads.parallelism() <= kSerialBusy) return {"T9", Verdict::confirmed, evidence};
    return {"T9", Verdict::nuanced, evidence + ": the threads overlapped a little, more than one lock holder at a time allows"};
}

// ---------------------------------------------------------------------------------------------

Figure gil_timeline(const RunResult& r) {
    constexpr int kColumns = 80;
    const double window = std::min(r.wall_ns, 100e6);
    const double column = window / kColumns;
    Figure f;
    f.title = fmt::format("Emulated GIL: who held the lock, first {:.0f} ms ({:.2f} ms per column)", window / 1e6, column / 1e6);
    for (int t = 0; t < r.n; ++t) {
        std::string lane(kColumns, '.');
        for (const auto& turn : r.intervals) {
            if (turn.thread != t) continue;
            const double a = double(turn.start - r.start) / column, b = double(turn.end - r.start) / column;
            for (int c = std::max(0, int(a)); c < kColumns && c <= int(b); ++c) lane[std::size_t(c)] = '#';
        }
        f.lines.push_back(fmt::format("thread {:<2} {}", t, lane));
    }
    f.note = "'#' = running (holding the lock); '.' = waiting for it. From each thread's clock gaps. One thread at a "
             "time, in turns of about the switch interval: concurrency without parallelism.";
    return f;
}

Result run(const DemoContext& ctx) {
    Result result;
    const int cpus = static_cast<int>(ctx.env.affinity_cpus.size());
    const int max_n = std::max(2, 2 * cpus);
    const int repetitions = ctx.repeat(2, 1);  // of each point of the sweeps (the verdicts come from the trials)
    result.config.repeat = repetitions;

    // Size the job: about 0.4 s of one CPU (0.1 s with --quick), in chunks of ~20 µs.
    std::uint64_t chunk_iterations = 10000;
    {
        const Nanos t0 = now_ns();
        (void)busy_work(chunk_iterations * 20, 1);
        const double per_chunk = double(now_ns() - t0) / 20;
        chunk_iterations = std::max<std::uint64_t>(100, std::uint64_t(double(chunk_iterations) * 20000.0 / std::max(1.0, per_chunk)));
    }
    const double target_s = ctx.options.quick ? 0.1 : 0.4;
    const std::uint64_t total_chunks = std::uint64_t(target_s * 1e9 / 20000.0);

    // 1. C++ threads.
    auto median_run = [&](int n, bool with_gil) {
        std::vector<RunResult> runs;
        for (int r = 0; r < repetitions; ++r) {
            std::optional<EmulatedGil> gil;
            if (with_gil) gil.emplace(std::chrono::microseconds(long(g_options.switch_interval_ms * 1000)));
            runs.push_back(run_threads(n, total_chunks, chunk_iterations, gil ? &*gil : nullptr));
        }
        std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.wall_ns < b.wall_ns; });
        return runs[runs.size() / 2];
    };
    std::vector<RunResult> plain, locked;
    for (int n = 1; n <= max_n; ++n) plain.push_back(median_run(n, false));
    for (int n : {1, std::min(max_n, std::max(2, cpus)), max_n}) {
        if (!locked.empty() && locked.back().n == n) continue;
        locked.push_back(median_run(n, true));
    }

    auto& t = result.add_table("C++ threads: one fixed job split across N threads",
                               {"N", "wall (median)", "speedup", "ideal min(N, CPUs)", "efficiency", "busy CPUs", "2+ running at once", "CPU time per thread"});
    for (const auto& r : plain) {
        const double s = speedup(plain.front().wall_ns, r.wall_ns);
        const auto cpu = summarize(r.thread_cpu_ns);
        t.rows.push_back({std::to_string(r.n), format_value(r.wall_ns, "ns"), fmt::format("{:.2f}x", s),
                          fmt::format("{}", std::min(r.n, cpus)), fmt::format("{:.0f}%", 100 * efficiency(s, r.n)),
                          fmt::format("{:.2f}", r.busy_cpus()), fmt::format("{:.0f}%", 100 * r.overlap()),
                          fmt::format("{} - {}", format_value(cpu.min, "ns"), format_value(cpu.max, "ns"))});
        result.add_metric(fmt::format("cpp_speedup_n{}", r.n), s, "ratio", fmt::format("C++ threads, N={}", r.n));
    }
    t.note = fmt::format("The job: {} chunks of {} multiply-adds (~20 µs each), ~{:.1f} s on one CPU; {} repetition{} per N, "
                         "median wall shown. {} CPU{} allowed. Busy CPUs = the threads' CPU time / wall time; '2+ running at once' = "
                         "the share of the wall time in which two or more threads ran, from their clock gaps.",
                         total_chunks, chunk_iterations, target_s, repetitions, repetitions == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s");

    // 2. The emulated GIL.
    auto& g = result.add_table(fmt::format("The same job under an emulated GIL (switch interval {} ms)", g_options.switch_interval_ms),
                               {"N", "wall (median)", "speedup", "busy CPUs", "2+ running at once", "hand-overs", "hand-overs per second"});
    for (const auto& r : locked) {
        const double s = speedup(locked.front().wall_ns, r.wall_ns);
        g.rows.push_back({std::to_string(r.n), format_value(r.wall_ns, "ns"), fmt::format("{:.2f}x", s),
                          fmt::format("{:.2f}", r.busy_cpus()), fmt::format("{:.1f}%", 100 * r.overlap()), std::to_string(r.gil_switches), fmt::format("{:.0f}", double(r.gil_switches) / (r.wall_ns / 1e9))});
        result.add_metric(fmt::format("gil_speedup_n{}", r.n), s, "ratio", fmt::format("emulated GIL, N={}", r.n));
    }
    g.note = "A waiting thread asks for the lock after one switch interval without a hand-over; the holder drops it at its "
             "next check (between chunks) and waits until another thread has it, as CPython's ceval_gil.c does.";
    const RunResult* shown = &locked.back();
    for (const auto& r : locked)
        if (r.n == std::max(2, std::min(cpus, max_n))) shown = &r;
    result.figures.push_back(gil_timeline(*shown));

    // 3. The trials that decide: one thread, N threads, N under the emulated GIL, and CPython, with
    // the interference around them.
    const int n_at_cpus = std::max(2, std::min(cpus, max_n));
    struct Trial {
        Evidence e;
        ClaimVerdict t2, t9;
    };
    std::vector<Trial> trials;
    for (int r = 0; r < ctx.trials(); ++r) {
        Trial trial;
        Evidence& e = trial.e;
        e.cpus = cpus;
        e.n_at_cpus = n_at_cpus;
        const InterferenceProbe probe(ctx.env.affinity_cpus);
        const RunResult one = run_threads(1, total_chunks, chunk_iterations, nullptr);
        const RunResult many = run_threads(n_at_cpus, total_chunks, chunk_iterations, nullptr);
        EmulatedGil gil(std::chrono::microseconds(long(g_options.switch_interval_ms * 1000)));
        const RunResult locked_many = run_threads(n_at_cpus, total_chunks, chunk_iterations, &gil);
        e.python = run_cpython(std::clamp(cpus, 2, 8), ctx.options.quick);
        e.interference = probe.stop();
        e.cpp_speedup = speedup(one.wall_ns, many.wall_ns);
        e.cpp_overlap = many.overlap();
        e.gil_speedup = speedup(one.wall_ns, locked_many.wall_ns);  // against the same job without the lock
        e.gil_overlap = locked_many.overlap();
        e.gil_switches = locked_many.gil_switches;
        trial.t2 = decide_t2(e);
        trial.t9 = decide_t9(e);
        trials.push_back(std::move(trial));
    }
    std::vector<ClaimVerdict> t2s, t9s;
    for (const auto& t : trials) {
        t2s.push_back(t.t2);
        t9s.push_back(t.t9);
    }
    const ClaimVerdict t2 = decide_from_trials(t2s), t9 = decide_from_trials(t9s);
    std::size_t shown_trial = 0;
    for (std::size_t i = 0; i < trials.size(); ++i)
        if (trials[i].t2.verdict == t2.verdict) {
            shown_trial = i;
            break;
        }
    const Evidence& e = trials[shown_trial].e;
    result.config.trials = static_cast<int>(trials.size());

    auto& tt = result.add_table(fmt::format("Trials: {} independent runs, each decided on its own", trials.size()),
                                {"trial", "interference", fmt::format("C++ {} threads", n_at_cpus), "2+ running at once",
                                 "emulated GIL: 2+ at once", "CPython threads: busy CPUs", "sha256 threads", "processes", "T2", "T9"});
    std::vector<double> speedups, overlaps, gil_overlaps, py_threads, py_hash;
    for (std::size_t i = 0; i < trials.size(); ++i) {
        const auto& x = trials[i].e;
        speedups.push_back(x.cpp_speedup);
        overlaps.push_back(x.cpp_overlap);
        gil_overlaps.push_back(x.gil_overlap);
        if (x.python.ran) {
            py_threads.push_back(x.python.threads.parallelism());
            py_hash.push_back(x.python.hash_threads.parallelism());
        }
        tt.rows.push_back({std::to_string(i + 1) + (i == shown_trial ? " (shown)" : ""),
                           x.interference.known ? fmt::format("{:.1f}%", 100 * x.interference.fraction()) : "unknown",
                           fmt::format("{:.2f}x", x.cpp_speedup), fmt::format("{:.0f}%", 100 * x.cpp_overlap),
                           fmt::format("{:.1f}%", 100 * x.gil_overlap),
                           x.python.ran ? fmt::format("{:.2f}", x.python.threads.parallelism()) : "-",
                           x.python.ran ? fmt::format("{:.2f}", x.python.hash_threads.parallelism()) : "-",
                           x.python.ran ? fmt::format("{:.2f}", x.python.processes.parallelism()) : "-",
                           std::string(to_string(trials[i].t2.verdict)), std::string(to_string(trials[i].t9.verdict))});
    }
    tt.note = fmt::format(
        "Interference = other tasks' CPU time and steal on the allowed CPUs during the trial (/proc/stat against our own "
        "getrusage; margin {:.0f}%). T2 is refuted only if the CPUs were free and the threads never ran at the same time "
        "(under {:.0f}% of the wall); T9 only if the emulated lock let two threads run at once. A verdict needs a majority "
        "of trials, 'refuted' all of them.",
        100 * kInterferenceMargin, 100 * kOverlapParallel);
    result.add_metric(fmt::format("trial_cpp_speedup_n{}", n_at_cpus), summarize(speedups), "ratio",
                      fmt::format("C++ threads, N={}, over trials", n_at_cpus))
        .headline = true;
    result.add_metric(fmt::format("trial_cpp_overlap_n{}", n_at_cpus), summarize(overlaps), "ratio",
                      "share of the wall time with 2+ C++ threads running, over trials")
        .headline = true;
    result.add_metric(fmt::format("trial_gil_overlap_n{}", n_at_cpus), summarize(gil_overlaps), "ratio",
                      "share of the wall time with 2+ threads running under the emulated GIL, over trials");
    if (!py_threads.empty()) {
        result.add_metric("trial_cpython_thread_busy_cpus", summarize(py_threads), "ratio", "CPython pure-Python threads: CPU/wall, over trials")
            .headline = true;
        result.add_metric("trial_cpython_hash_busy_cpus", summarize(py_hash), "ratio", "CPython sha256 threads: CPU/wall, over trials")
            .headline = true;
    }
    Interference all_interference;
    for (const auto& t : trials) all_interference += t.e.interference;
    result.add_metric("interference", all_interference.fraction(), "ratio",
                      "other tasks' CPU time and steal, as a share of the allowed CPUs' time, over all trials");
    result.notes.push_back("Interference over all trials: " + all_interference.describe() + ".");

    if (e.python.ran) {
        const auto& py = e.python;
        auto& p = result.add_table(fmt::format("Real CPython {} ({}{}), {} workers", py.version, py.implementation,
                                               py.free_threaded_build ? ", free-threaded build" : "", py.n),
                                   {"work", "run as", "wall", "speedup", "busy CPUs"});
        auto row = [&](const char* work, std::string how, const Timing& t, const Timing& base) {
            p.rows.push_back({work, std::move(how), format_value(t.wall * 1e9, "ns"), fmt::format("{:.2f}x", speedup(base.wall, t.wall)),
                              fmt::format("{:.2f}", t.parallelism())});
        };
        row("pure-Python loop", "1 thread", py.one, py.one);
        row("pure-Python loop", fmt::format("{} threads", py.n), py.threads, py.one);
        row("pure-Python loop", fmt::format("{} processes", py.n), py.processes, py.one);
        row("sha256 of a large buffer (releases the GIL)", "1 thread", py.hash_one, py.hash_one);
        row("sha256 of a large buffer (releases the GIL)", fmt::format("{} threads", py.n), py.hash_threads, py.hash_one);
        p.note = fmt::format("GIL enabled at run time: {}. The same total work in each group; processes by os.fork(). Busy CPUs = "
                             "CPU time (getrusage) / wall time.",
                             py.gil_enabled ? "yes" : "no");
        result.add_metric("cpython_thread_speedup", speedup(py.one.wall, py.threads.wall), "ratio", "CPython pure-Python loop, N threads");
        result.add_metric("cpython_thread_busy_cpus", py.threads.parallelism(), "ratio", "CPython pure-Python loop, N threads: CPU/wall");
        result.add_metric("cpython_process_speedup", speedup(py.one.wall, py.processes.wall), "ratio", "CPython pure-Python loop, N processes");
        result.add_metric("cpython_hash_thread_speedup", speedup(py.hash_one.wall, py.hash_threads.wall), "ratio", "CPython sha256, N threads");
    } else {
        result.notes.push_back("Real CPython not measured: " + e.python.why_not + ".");
    }

    Json raw;
    for (const auto& r : plain) raw["cpp"].push_back(Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}});
    for (const auto& r : locked)
        raw["gil"].push_back(Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"switches", r.gil_switches}});
    if (e.python.ran)
        raw["cpython"] = Json{{"version", e.python.version}, {"n", e.python.n}, {"one_s", e.python.one.wall},
                              {"threads_s", e.python.threads.wall}, {"processes_s", e.python.processes.wall},
                              {"hash_one_s", e.python.hash_one.wall}, {"hash_threads_s", e.python.hash_threads.wall}};
    result.raw_json = raw.dump();

    auto agreed = [](const ClaimVerdict& v) { return fmt::format(" [{} of {} trials]", v.agreeing_trials(), v.trial_verdicts.size()); };
    result.add_verdict(t2, fmt::format("C++: {} threads {:.2f}x on {} CPUs, 2+ running {:.0f}% of the time", e.n_at_cpus,
                                       e.cpp_speedup, cpus, 100 * e.cpp_overlap) + agreed(t2));
    result.add_verdict(t9,
                       e.python.ran ? fmt::format("emulated GIL {:.2f}x; CPython {} threads {:.2f}x, processes {:.2f}x, sha256 threads {:.2f}x",
                                                  e.gil_speedup, e.python.version, speedup(e.python.one.wall, e.python.threads.wall),
                                                  speedup(e.python.one.wall, e.python.processes.wall),
                                                  speedup(e.python.hash_one.wall, e.python.hash_threads.wall)) + agreed(t9)
                                    : fmt::format("emulated GIL {:.2f}x; CPython not measured", e.gil_speedup) + agreed(t9));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "threads_parallel";
    s.title = "C++ threads run in parallel; under a global interpreter lock (emulated, and real CPython) they take turns";
    s.claims = {"T2", "T9"};
    s.default_timeout_s = 180;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::threads_parallel

PROCLAB_DEMO_MAIN(proclab::threads_parallel::spec)
