// threads_parallel: claims T2 and T9 of docs/claims.md.
//
//   T2  A process may run N threads; in some languages they run in parallel, not in Python.
//   T9  Python threads cannot run at the same time, only by time slicing.
//
// Method (runs.hpp, cpython.hpp, the rules in verdicts.hpp, the tables in report.hpp):
//   1. C++ threads: one fixed job split evenly across N threads, N = 1 .. 2x CPUs (--thread-counts);
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
#include "threads_parallel/report.hpp"
#include "threads_parallel/runs.hpp"
#include "threads_parallel/verdicts.hpp"

#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/topology.hpp"
#include "proclab/trials.hpp"
#include "proclab/work.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace proclab::threads_parallel {

constexpr int kMaxThreads = 1024;

std::vector<DemoOption> options() {
    return {
        {.name = "--switch-interval",
         .help = "The emulated GIL's switch interval in ms, as CPython's sys.getswitchinterval()",
         .full = "5",
         .type_name = "MS",
         .check = CLI::Range(0.1, 1000.0)},
        {.name = "--thread-counts",
         .help = "Thread counts of the sweep, 1 to 1024, like 1-8 or 1,2,4,16",
         .type_name = "LIST",
         .default_words = "1 to 2x the allowed CPUs (past 16, every count to 8, then steps of about 1.5x)"},
        {.name = "--work",
         .help = "The kind of job: compute-bound, memory-bound (streaming past the last-level cache), or both",
         .full = "both",
         .check = CLI::IsMember({"compute", "memory", "both"})},
    };
}

// ---------------------------------------------------------------------------------------------

struct Setup {
    int cpus = 0;                        // allowed
    int max_n = 0;                       // the sweep's largest thread count by default: 2x CPUs, at least 2
    int n_at_cpus = 0;                   // the thread count the trials compare
    std::vector<int> counts;             // the sweep's thread counts, 1 first
    int repetitions = 0;                 // of each sweep point (the verdicts come from the trials)
    double switch_interval_ms = 5;       // the emulated GIL's
    bool compute = true, memory = true;  // --work
    double job_s = 0.3;                  // one job's CPU time on one CPU (--quick: 0.1)
    CPythonWork python;                  // CPython's jobs: smaller with --quick
    std::chrono::microseconds switch_interval() const {
        return std::chrono::microseconds(long(switch_interval_ms * 1000));
    }
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    s.cpus = static_cast<int>(ctx.env.affinity_cpus.size());
    s.max_n = std::max(2, 2 * s.cpus);
    s.n_at_cpus = std::max(2, std::min(s.cpus, s.max_n));
    const std::string& counts = ctx.values.text("--thread-counts");
    if (counts.empty()) {
        s.counts = default_thread_counts(s.cpus);
    } else {
        s.counts = parse_cpu_list(counts);  // a list of integers with ranges, like a CPU list
        if (s.counts.empty() || s.counts.front() < 1 || s.counts.back() > kMaxThreads)
            throw UsageError(fmt::format("--thread-counts {}: give thread counts from 1 to {}, like 1-8 or 1,2,4",
                                         counts, kMaxThreads));
        if (s.counts.front() != 1) s.counts.insert(s.counts.begin(), 1);  // the speedup's base
    }
    s.repetitions = ctx.repeat();
    s.switch_interval_ms = ctx.values.number("--switch-interval");
    s.compute = ctx.values.text("--work") != "memory";
    s.memory = ctx.values.text("--work") != "compute";
    s.job_s = ctx.options.quick ? 0.1 : 0.3;
    if (ctx.options.quick) s.python = kQuickCPythonWork;
    return s;
}

// The memory-bound job's buffer: twice the last-level cache, so a line is gone before it is read
// again; at least 64 MiB, at most 512 MiB (a machine with a larger cache gets a note).
std::size_t memory_buffer_bytes(std::size_t llc) {
    const std::size_t want = std::clamp<std::size_t>(2 * llc, std::size_t(64) << 20, std::size_t(512) << 20);
    return want / kSliceBytes * kSliceBytes;
}

// Sizes the jobs on this machine: about 0.3 s of one CPU each (0.1 s with --quick); the compute
// job in chunks of ~20 µs, the memory job from one thread's pass over part of its buffer.
Workload size_jobs(const DemoContext& ctx, const Setup& setup) {
    std::uint64_t chunk_iterations = 10000;
    {
        const Nanos t0 = now_ns();
        (void)busy_work(chunk_iterations * 20, 1);
        const double per_chunk = double(now_ns() - t0) / 20;
        chunk_iterations =
            std::max<std::uint64_t>(100, std::uint64_t(double(chunk_iterations) * 20000.0 / std::max(1.0, per_chunk)));
    }
    const double target_s = setup.job_s;
    Workload w{Job::compute(std::uint64_t(target_s * 1e9 / 20000.0), chunk_iterations), std::nullopt, 0, target_s,
               chunk_iterations};
    const int first_cpu = ctx.env.affinity_cpus.empty() ? 0 : ctx.env.affinity_cpus.front();
    const Topology topology = read_topology({first_cpu});
    const CpuPlace* place = topology.find(first_cpu);
    w.llc_bytes = place ? place->llc_bytes : 0;
    if (setup.memory) {
        w.memory.emplace(Job::memory(1, memory_buffer_bytes(w.llc_bytes)));
        const std::uint64_t probe_chunks = std::min<std::uint64_t>(2048, w.memory->buffer_bytes() / kSliceBytes);
        w.memory->set_total_chunks(probe_chunks);
        const RunResult probe = run_threads(1, *w.memory, nullptr);
        w.memory->set_total_chunks(std::max<std::uint64_t>(
            64, std::uint64_t(target_s * 1e9 / std::max(1.0, probe.wall_ns / double(probe_chunks)))));
    }
    return w;
}

// The run of median wall time of `repetitions`.
RunResult median_run(int n, const Job& job, std::optional<std::chrono::microseconds> gil_interval, int repetitions) {
    std::vector<RunResult> runs;
    for (int r = 0; r < repetitions; ++r) {
        std::optional<EmulatedGil> gil;
        if (gil_interval) gil.emplace(*gil_interval);
        runs.push_back(run_threads(n, job, gil ? &*gil : nullptr));
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.wall_ns < b.wall_ns; });
    return runs[runs.size() / 2];
}

// One trial: one thread, N threads, the same N under the emulated GIL, the memory job, CPython.
Evidence measure_trial(const DemoContext& ctx, const Setup& setup, const Workload& work) {
    Evidence e;
    e.cpus = setup.cpus;
    e.quota_cpus = ctx.env.cpu_quota_cpus;
    e.n_at_cpus = setup.n_at_cpus;
    const RunResult one = run_threads(1, work.compute, nullptr);
    const RunResult many = run_threads(setup.n_at_cpus, work.compute, nullptr);
    EmulatedGil gil(setup.switch_interval());
    const RunResult locked_many = run_threads(setup.n_at_cpus, work.compute, &gil);
    if (work.memory) {
        const RunResult mem_one = run_threads(1, *work.memory, nullptr);
        const RunResult mem_many = run_threads(setup.n_at_cpus, *work.memory, nullptr);
        e.mem_speedup = speedup(mem_one.wall_ns, mem_many.wall_ns);
        e.mem_overlap = mem_many.overlap();
        e.mem_bandwidth_one = mem_one.bytes_per_s();
        e.mem_bandwidth_n = mem_many.bytes_per_s();
    }
    e.python = run_cpython(std::clamp(setup.cpus, 2, 8), setup.python);
    e.cpp_speedup = speedup(one.wall_ns, many.wall_ns);
    e.cpp_overlap = many.overlap();
    e.cpp_busy = many.busy_cpus();
    e.gil_speedup = speedup(one.wall_ns, locked_many.wall_ns);  // against the same job without the lock
    e.gil_overlap = locked_many.overlap();
    e.gil_switches = locked_many.gil_switches;
    return e;
}

// The plan: the sweeps (each kind of job at every thread count; the emulated GIL at 1, CPUs and
// 2x CPUs), shown in tables; then R trials that decide (trials.hpp); then the report (report.hpp).
Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    const Workload work = size_jobs(ctx, setup);
    Measured m;
    m.cpus = setup.cpus;
    m.n_at_cpus = setup.n_at_cpus;
    m.repetitions = setup.repetitions;
    m.switch_interval_ms = setup.switch_interval_ms;
    const auto sweep = [&](const Job& job) {
        std::vector<RunResult> runs;
        for (int n : setup.counts) runs.push_back(median_run(n, job, std::nullopt, setup.repetitions));
        return runs;
    };
    if (setup.compute) m.sweeps.push_back(sweep(work.compute));
    if (work.memory) m.sweeps.push_back(sweep(*work.memory));
    for (int n : {1, setup.n_at_cpus, setup.max_n})
        if (m.locked.empty() || m.locked.back().n != n)
            m.locked.push_back(median_run(n, work.compute, setup.switch_interval(), setup.repetitions));

    m.trials = run_trials(
        ctx.trials(), ctx.env.affinity_cpus, [&](int) { return measure_trial(ctx, setup, work); },
        [](Evidence& e, const Interference& interference) {
            e.interference = interference;
            return std::vector<Decision>{decide_t2(e), decide_t9(e)};
        });
    Result result;
    present(result, work, m);
    // The thread counts and "CPUs busy" count logical CPUs: where SMT siblings are among them, say
    // what one is (a speedup of N threads on N siblings is below N for the hardware's reason).
    if (const auto smt = smt_sentence(read_topology(ctx.env.affinity_cpus)))
        result.notes.push_back(*smt +
                               " The sweep's thread counts and 'CPUs busy' count logical CPUs, so a speedup below "
                               "the thread count on siblings is the shared core's, not the scheduler's.");
    for (const auto& d : m.trials.combined) result.add_decision(d);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "threads_parallel",
        .title =
            "C++ threads run in parallel; under a global interpreter lock (emulated, and real CPython) they take turns",
        .claims = {"T2", "T9"},
        .rules = {kT2Rule, kT9Rule},
        .default_timeout_s = 180,
        .repeat = RepeatSpec{.counts = "Repetitions of each point of the sweep", .full = 2, .quick = 1},
        .trials = true,
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::threads_parallel

PROCLAB_DEMO_MAIN(proclab::threads_parallel::spec)
