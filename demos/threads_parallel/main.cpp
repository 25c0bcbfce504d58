// threads_parallel: claims T2 and T9 of ../shared/seed/claims.md.
//
//   T2  A process may run N threads; in some languages they run in parallel, not in Python.
//   T9  Python threads cannot run at the same time, only by time slicing.
//
// Method (runs.hpp, cpython.hpp, the rules in verdicts.hpp):
//   1. C++ threads: one fixed job split evenly across N threads, N = 1 .. 2x CPUs (--threads);
//      wall time (median of repetitions), speedup and efficiency against N = 1, each thread's own
//      CPU time (CLOCK_THREAD_CPUTIME_ID) and the share of the wall in which two or more ran. Two
//      kinds of job (--work): compute-bound (a chain of multiply-adds) and memory-bound (streaming
//      a buffer larger than the last-level cache), whose curve flattens at the memory bandwidth.
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

#include "threads_parallel/cpython.hpp"
#include "threads_parallel/runs.hpp"
#include "threads_parallel/verdicts.hpp"

#include "proclab/affinity.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/stats.hpp"
#include "proclab/topology.hpp"
#include "proclab/trials.hpp"
#include "proclab/work.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace proclab::threads_parallel {

struct Options {
    double switch_interval_ms = 5;
    std::string threads;  // empty: 1 .. 2x CPUs
    std::string work = "both";
};
Options g_options;
constexpr int kMaxThreads = 1024;

void add_options(CLI::App& app) {
    app.add_option("--switch-interval", g_options.switch_interval_ms,
                   "The emulated GIL's switch interval in ms (CPython: sys.getswitchinterval(), 5 ms)")
        ->check(CLI::Range(0.1, 1000.0))
        ->type_name("MS");
    app.add_option("--threads", g_options.threads, "Thread counts of the sweep, like 1-8 or 1,2,4,16 (1 to 1024; default 1 to 2x CPUs)")
        ->type_name("LIST");
    app.add_option("--work", g_options.work, "The kind of job: compute-bound, memory-bound (streaming past the last-level cache), or both")
        ->check(CLI::IsMember({"compute", "memory", "both"}))
        ->capture_default_str();
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

// The memory-bound job's buffer: twice the last-level cache, so a line is gone before it is read
// again; at least 64 MiB, at most 512 MiB (a machine with a larger cache gets a note).
std::size_t memory_buffer_bytes(std::size_t llc) {
    const std::size_t want = std::clamp<std::size_t>(2 * llc, std::size_t(64) << 20, std::size_t(512) << 20);
    return want / kSliceBytes * kSliceBytes;
}

Result run(const DemoContext& ctx) {
    Result result;
    const int cpus = static_cast<int>(ctx.env.affinity_cpus.size());
    const int max_n = std::max(2, 2 * cpus);
    std::vector<int> counts;
    if (g_options.threads.empty()) {
        for (int n = 1; n <= max_n; ++n) counts.push_back(n);
    } else {
        counts = parse_cpu_list(g_options.threads);  // a list of integers with ranges, like a CPU list
        if (counts.empty() || counts.front() < 1 || counts.back() > kMaxThreads)
            throw UsageError(fmt::format("--threads {}: give thread counts from 1 to {}, like 1-8 or 1,2,4", g_options.threads, kMaxThreads));
        if (counts.front() != 1) counts.insert(counts.begin(), 1);  // the speedup's base
    }
    const int repetitions = ctx.repeat(2, 1);  // of each point of the sweeps (the verdicts come from the trials)
    result.config.repeat = repetitions;

    // Size the compute job: about 0.4 s of one CPU (0.1 s with --quick), in chunks of ~20 µs.
    std::uint64_t chunk_iterations = 10000;
    {
        const Nanos t0 = now_ns();
        (void)busy_work(chunk_iterations * 20, 1);
        const double per_chunk = double(now_ns() - t0) / 20;
        chunk_iterations = std::max<std::uint64_t>(100, std::uint64_t(double(chunk_iterations) * 20000.0 / std::max(1.0, per_chunk)));
    }
    const double target_s = ctx.options.quick ? 0.1 : 0.3;
    const std::uint64_t total_chunks = std::uint64_t(target_s * 1e9 / 20000.0);
    const Job compute = Job::compute(total_chunks, chunk_iterations);

    // The memory-bound job, sized the same way from one thread's pass over part of the buffer.
    std::optional<Job> memory;
    const int first_cpu = ctx.env.affinity_cpus.empty() ? 0 : ctx.env.affinity_cpus.front();
    const Topology topology = read_topology({first_cpu});
    const CpuPlace* place = topology.find(first_cpu);
    const std::size_t llc = place ? place->llc_bytes : 0;
    if (g_options.work != "compute") {
        memory.emplace(Job::memory(1, memory_buffer_bytes(llc)));
        const std::uint64_t probe_chunks = std::min<std::uint64_t>(2048, memory->buffer_bytes() / kSliceBytes);
        memory->set_total_chunks(probe_chunks);
        const RunResult probe = run_threads(1, *memory, nullptr);
        memory->set_total_chunks(std::max<std::uint64_t>(64, std::uint64_t(target_s * 1e9 / std::max(1.0, probe.wall_ns / double(probe_chunks)))));
    }

    // 1. The sweeps: each kind of job at every thread count.
    auto median_run = [&](int n, const Job& job, bool with_gil) {
        std::vector<RunResult> runs;
        for (int r = 0; r < repetitions; ++r) {
            std::optional<EmulatedGil> gil;
            if (with_gil) gil.emplace(std::chrono::microseconds(long(g_options.switch_interval_ms * 1000)));
            runs.push_back(run_threads(n, job, gil ? &*gil : nullptr));
        }
        std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.wall_ns < b.wall_ns; });
        return runs[runs.size() / 2];
    };
    std::vector<std::vector<RunResult>> sweeps;  // compute first (when asked for), then memory
    std::vector<const Job*> jobs;
    if (g_options.work != "memory") jobs.push_back(&compute);
    if (memory) jobs.push_back(&*memory);
    for (const Job* job : jobs) {
        sweeps.emplace_back();
        for (int n : counts) sweeps.back().push_back(median_run(n, *job, false));
    }
    std::vector<RunResult> locked;
    for (int n : {1, std::min(max_n, std::max(2, cpus)), max_n}) {
        if (!locked.empty() && locked.back().n == n) continue;
        locked.push_back(median_run(n, compute, true));
    }

    for (const auto& sweep : sweeps) {
        const bool mem = sweep.front().kind == WorkKind::memory;
        std::vector<Column> columns{{"N", "count"},          {"wall (median)", "ns"},    {"speedup", "x"},
                                    {"ideal min(N, CPUs)", "x"}, {"efficiency", "fraction"}, {"busy CPUs", "CPUs"},
                                    {"2+ running at once", "fraction"}};
        if (mem) columns.emplace_back("bandwidth", "B/s");
        else {
            columns.emplace_back("CPU time per thread, least", "ns");
            columns.emplace_back("most", "ns");
        }
        columns.emplace_back("check");
        auto& t = result.add_table(mem ? fmt::format("C++ threads, memory-bound: streaming a {} buffer, N threads", byte_label(memory->buffer_bytes()))
                                       : "C++ threads, compute-bound: one fixed job split across N threads",
                                   columns);
        for (const auto& r : sweep) {
            const double s = speedup(sweep.front().wall_ns, r.wall_ns);
            const auto cpu = summarize(r.thread_cpu_ns);
            std::vector<Cell> row{double(r.n), r.wall_ns, s, double(std::min(r.n, cpus)), efficiency(s, r.n), r.busy_cpus(), r.overlap()};
            if (mem) row.emplace_back(r.bytes_per_s());
            else {
                row.emplace_back(cpu.min);
                row.emplace_back(cpu.max);
            }
            // A speedup is bounded by N: above it (beyond the noise allowed) the figure is not what
            // its label says, and is flagged rather than printed bare.
            row.emplace_back(s > double(r.n) * (1 + kSpeedupTolerance)
                                 ? fmt::format("implausible: above its ceiling N = {} (+{:.0f}% for noise)", r.n, 100 * kSpeedupTolerance)
                                 : "");
            t.rows.push_back(std::move(row));
            result.add_metric(fmt::format("{}_speedup_n{}", mem ? "memory" : "cpp", r.n), s, "ratio",
                              fmt::format("C++ threads, {}, N={}", name(r.kind), r.n));
            if (mem) result.add_metric(fmt::format("memory_bandwidth_n{}", r.n), r.bytes_per_s(), "B/s", fmt::format("memory-bound job, N={}: bytes read per second", r.n));
        }
        t.note = mem ? fmt::format("Each chunk reads one word per 64-byte line of a 64 KiB slice; thread i starts i/N of the way into the buffer "
                                   "and streams on, so no line is still cached when it comes back (buffer {}, last-level cache {}). "
                                   "{} slices in all, ~{:.1f} s on one thread; {} repetition{} per N, median wall shown. The curve "
                                   "flattens where the memory bandwidth runs out, not the CPUs.",
                                   byte_label(memory->buffer_bytes()), llc ? byte_label(llc) : "unknown", memory->total_chunks(),
                                   target_s, repetitions, repetitions == 1 ? "" : "s")
                     : fmt::format("The job: {} chunks of {} multiply-adds (~20 µs each), ~{:.1f} s on one CPU; {} repetition{} per N, "
                                   "median wall shown. {} CPU{} allowed. Busy CPUs = the threads' CPU time / wall time; '2+ running at "
                                   "once' = the share of the wall time in which two or more threads ran, from their clock gaps.",
                                   total_chunks, chunk_iterations, target_s, repetitions, repetitions == 1 ? "" : "s", cpus, cpus == 1 ? "" : "s");
    }
    if (memory && llc > (std::size_t(256) << 20))
        result.notes.push_back(fmt::format("The last-level cache ({}) is larger than half the memory-bound buffer can be (512 MiB): part "
                                           "of the stream may still come from the cache.", byte_label(llc)));

    // 2. The emulated GIL.
    auto& g = result.add_table(fmt::format("The same compute-bound job under an emulated GIL (switch interval {} ms)", g_options.switch_interval_ms),
                               {{"N", "count"}, {"wall (median)", "ns"}, {"speedup", "x"}, {"busy CPUs", "CPUs"}, {"2+ running at once", "fraction"},
                                {"hand-overs", "count"}, {"hand-overs per second", "per s"}});
    for (const auto& r : locked) {
        const double s = speedup(locked.front().wall_ns, r.wall_ns);
        g.rows.push_back({double(r.n), r.wall_ns, s, r.busy_cpus(), r.overlap(), double(r.gil_switches), double(r.gil_switches) / (r.wall_ns / 1e9)});
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
    const auto trials = run_trials(
        ctx.trials(), ctx.env.affinity_cpus,
        [&](int) {
            Evidence e;
            e.cpus = cpus;
            e.n_at_cpus = n_at_cpus;
            const RunResult one = run_threads(1, compute, nullptr);
            const RunResult many = run_threads(n_at_cpus, compute, nullptr);
            EmulatedGil gil(std::chrono::microseconds(long(g_options.switch_interval_ms * 1000)));
            const RunResult locked_many = run_threads(n_at_cpus, compute, &gil);
            if (memory) {
                const RunResult mem_one = run_threads(1, *memory, nullptr);
                const RunResult mem_many = run_threads(n_at_cpus, *memory, nullptr);
                e.mem_speedup = speedup(mem_one.wall_ns, mem_many.wall_ns);
                e.mem_overlap = mem_many.overlap();
                e.mem_bandwidth_one = mem_one.bytes_per_s();
                e.mem_bandwidth_n = mem_many.bytes_per_s();
            }
            e.python = run_cpython(std::clamp(cpus, 2, 8), ctx.options.quick);
            e.cpp_speedup = speedup(one.wall_ns, many.wall_ns);
            e.cpp_overlap = many.overlap();
            e.gil_speedup = speedup(one.wall_ns, locked_many.wall_ns);  // against the same job without the lock
            e.gil_overlap = locked_many.overlap();
            e.gil_switches = locked_many.gil_switches;
            return e;
        },
        [&](Evidence& e, const Interference& interference) {
            e.interference = interference;
            return std::vector<Decision>{decide_t2(e), decide_t9(e)};
        });
    const Evidence& e = trials.shown_evidence();
    result.config.trials = trials.count();

    auto tt = trials_table(trials, fmt::format("Trials: {} independent runs, each decided on its own", trials.count()),
                           {{fmt::format("C++ {} threads", n_at_cpus), "x"}, {"2+ running at once", "fraction"},
                            {"emulated GIL: 2+ at once", "fraction"}, {"CPython threads: busy CPUs", "CPUs"}, {"sha256 threads", "CPUs"},
                            {"processes", "CPUs"}},
                           [](const Evidence& x) {
                               const auto py = [&](const Timing& t) { return x.python.ran ? Cell{t.parallelism()} : Cell{}; };
                               return std::vector<Cell>{x.cpp_speedup, x.cpp_overlap, x.gil_overlap, py(x.python.threads),
                                                        py(x.python.hash_threads), py(x.python.processes)};
                           });
    tt.note = fmt::format(
        "Interference = other tasks' CPU time and steal on the allowed CPUs during the trial (/proc/stat against our own "
        "getrusage; margin {:.0f}%). T2 is refuted only if the CPUs were free and the threads did not run at the same time "
        "(under {:.0f}% of the wall); T9 only if real CPython's pure-Python threads, GIL enabled, kept {:.1f} CPUs or more busy. "
        "The emulated GIL shows the mechanism and decides nothing. A verdict needs a majority of trials, 'refuted' all of them.",
        100 * kInterferenceMargin, 100 * kOverlapParallel, kParallelBusy);
    result.tables.push_back(std::move(tt));
    std::vector<double> speedups, overlaps, gil_overlaps, py_threads, py_hash;
    for (const auto& x : trials.evidence) {
        speedups.push_back(x.cpp_speedup);
        overlaps.push_back(x.cpp_overlap);
        gil_overlaps.push_back(x.gil_overlap);
        if (x.python.ran) {
            py_threads.push_back(x.python.threads.parallelism());
            py_hash.push_back(x.python.hash_threads.parallelism());
        }
    }
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
    const Interference all_interference = trials.total_interference();
    result.add_metric("interference", all_interference.fraction(), "ratio",
                      "other tasks' CPU time and steal, as a share of the allowed CPUs' time, over all trials");
    result.notes.push_back("Interference over all trials: " + all_interference.describe() + ".");

    if (e.python.ran) {
        const auto& py = e.python;
        auto& p = result.add_table(fmt::format("Real CPython {} ({}{}), {} workers", py.version, py.implementation,
                                               py.free_threaded_build ? ", free-threaded build" : "", py.n),
                                   {"work", "run as", {"wall", "ns"}, {"speedup", "x"}, {"busy CPUs", "CPUs"}});
        auto row = [&](const char* work, std::string how, const Timing& t, const Timing& base) {
            p.rows.push_back({work, std::move(how), t.wall * 1e9, speedup(base.wall, t.wall), t.parallelism()});
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
    for (const auto& sweep : sweeps)
        if (!sweep.empty() && sweep.front().kind == WorkKind::compute)
            for (const auto& r : sweep) raw["cpp"].push_back(Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"overlap", r.overlap()}});
    for (const auto& sweep : sweeps)
        if (!sweep.empty() && sweep.front().kind == WorkKind::memory)
            for (const auto& r : sweep)
                raw["memory"].push_back(Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"overlap", r.overlap()},
                                             {"bytes_per_s", r.bytes_per_s()}});
    for (const auto& r : locked)
        raw["gil"].push_back(Json{{"n", r.n}, {"wall_ms", r.wall_ns / 1e6}, {"busy_cpus", r.busy_cpus()}, {"switches", r.gil_switches}});
    if (e.python.ran)
        raw["cpython"] = Json{{"version", e.python.version}, {"n", e.python.n}, {"one_s", e.python.one.wall},
                              {"threads_s", e.python.threads.wall}, {"processes_s", e.python.processes.wall},
                              {"hash_one_s", e.python.hash_one.wall}, {"hash_threads_s", e.python.hash_threads.wall}};
    result.raw = std::move(raw);

    for (const auto& d : trials.combined) result.add_decision(d);
    return result;
}
DemoSpec spec() {
    DemoSpec s;
    s.name = "threads_parallel";
    s.title = "C++ threads run in parallel; under a global interpreter lock (emulated, and real CPython) they take turns";
    s.claims = {"T2", "T9"};
    s.rules = {kT2Rule, kT9Rule};
    s.default_timeout_s = 180;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::threads_parallel

PROCLAB_DEMO_MAIN(proclab::threads_parallel::spec)
