// time_slicing: claims P2, P4 and T1 of docs/claims.md.
//
//   P2  Processes share the cores and compete for them; the OS gives each a time slice and
//       decides by itself which runs next.
//   P4  Even with many cores not everything can run in parallel, so time slicing is used.
//   T1  A thread is a sequence of instructions that the OS scheduler manages independently.
//
// Method: K CPU-bound workers (real processes by default, threads with --kind threads) each need the
// same fixed amount of CPU time (--duration). A worker does a short calibrated chunk of work, reads
// CLOCK_MONOTONIC, and repeats; a step between two readings larger than a threshold calibrated
// from the undisturbed loop means the worker was off the CPU in between. Between gaps lie the
// slices it actually got; each is stored with its CPU (sched_getcpu) in shared memory
// (Boost.Interprocess anonymous memory, so forked workers write where the parent reads). Workers
// print nothing. Beside this the kernel's own view of every task: /proc/thread-self/schedstat
// (run time, wait time, slices), voluntary and involuntary context switches, se.nr_migrations,
// read by each worker at its start and end; and /proc/interrupts for the tick as observed.
// Default sweep: K = 1, CPUs, 2x CPUs, 4x CPUs of the affinity mask (processes), then 2x CPUs
// threads for T1, which all start on one CPU and are then allowed every CPU: whether and when the
// scheduler spreads them is its own decision, measured (sched_getcpu at every loop step).
//
// Verdicts come from R independent trials of the whole sweep (--trials, default 5, --quick 3),
// each decided on its own, then combined (decide_from_trials). Each names what would refute its
// claim and tests exactly that: P4 is refuted only if, from the run intervals, more workers ran at
// some instant than there are CPUs; P2 only if over-subscribed workers ran one after another
// without being preempted; T1 only if threads did not have their own kernel identity and counts.
// What else ran on the CPUs meanwhile (other tasks, steal) is measured around every trial; where
// it is above a claim's margin, the share-based parts of the verdict are not-measured.
//
// Caveats: in a virtual machine the host can deschedule a whole virtual CPU, which shows up as a
// gap the guest kernel did not cause (steal time). Other load on the machine takes its share.
// cgroup CPU quotas cap shares below what the CPU count predicts. Autogroup puts each session in
// its own group, so other sessions' work does not dilute these workers' shares among themselves.
// The EEVDF base slice is configured in debugfs (root and a mounted debugfs to read it); without
// high-resolution ticks a slice ends at a timer tick, so the tick bounds what is observed.
//
// Files: workers (the loop and its calibration), steps (one step of K workers), verdicts (P2, P4,
// T1 and their thresholds), timeline (the terminal picture), report (the tables from the evidence); this
// file holds the plan: the sweep, its trials, the decisions.

#include "time_slicing/report.hpp"
#include "time_slicing/steps.hpp"
#include "time_slicing/verdicts.hpp"
#include "time_slicing/workers.hpp"

#include "proclab/aggregate.hpp"
#include "proclab/demo.hpp"
#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/topology.hpp"
#include "proclab/trials.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace proclab::time_slicing {

namespace {

// ---------------------------------------------------------------------------------------------
std::vector<DemoOption> options() {
    return {
        {.name = "--workers",
         .help = "Run one step with K workers, 1 to 1024, instead of the sweep",
         .type_name = "K",
         .check = CLI::Range(1, 1024),
         .default_words = "the sweep 1, N, 2N, 4N for N CPUs"},
        {.name = "--kind",
         .help =
             "What the sweep's workers are: processes, or threads of this process (T1's step runs threads either way)",
         .full = "processes",
         .check = CLI::IsMember({"processes", "threads"})},
        {.name = "--pin",
         .help = "Pin every worker to this one CPU, 0 to 1023",
         .type_name = "CPU",
         .check = CLI::Range(0, CPU_SETSIZE - 1),
         .default_words = "none"},
        {.name = "--duration",
         .help = "CPU time each worker needs, in seconds",
         .full = "0.2",
         .quick = "0.05",
         .type_name = "SECONDS",
         .check = CLI::Range(0.01, 60.0)},
    };
}

// The sweep's plan: the CPUs, the steps, the CPU time each worker needs.
struct Setup {
    std::vector<int> cpus;
    int pin = -1;
    bool threads = false;  // --kind threads: the sweep's workers are threads
    double duration_s = 0;
    struct Step {
        int k;
        bool threads;
    };
    std::vector<Step> steps;
};

Setup read_setup(const DemoContext& ctx) {
    const OptionValues& o = ctx.values;
    Setup s;
    s.threads = o.text("--kind") == "threads";
    s.cpus = ctx.env.affinity_cpus;
    if (o.given("--pin")) {
        s.pin = static_cast<int>(o.integer("--pin"));
        if (std::find(s.cpus.begin(), s.cpus.end(), s.pin) == s.cpus.end())
            throw UsageError(
                fmt::format("--pin {}: CPU not in this process's affinity mask ({})", s.pin, format_cpu_list(s.cpus)));
        s.cpus = {s.pin};
    }
    const int n = static_cast<int>(s.cpus.size());
    s.duration_s = o.number("--duration");
    if (o.given("--workers")) {
        s.steps.push_back({static_cast<int>(o.integer("--workers")), s.threads});
    } else {
        for (int k : {1, n, 2 * n, 4 * n})
            if (s.steps.empty() || s.steps.back().k != k) s.steps.push_back({k, s.threads});
    }
    if (!s.threads) s.steps.push_back({std::max(2, 2 * n), true});  // T1: threads, always
    return s;
}

// One trial: every step of the plan, its workers reaped before the next. A step that would take
// longer than kMaxStepWallS gets less work per worker (noted in `shortened`, when given).
std::vector<StepResult> run_sweep(const Setup& setup, const Calibration& cal, std::vector<std::string>* shortened) {
    const int n = static_cast<int>(setup.cpus.size());
    std::vector<StepResult> steps;
    for (const auto& p : setup.steps) {
        double work_s = p.threads && !setup.threads ? setup.duration_s / 2 : setup.duration_s;
        const double oversubscription = std::max(1.0, double(p.k) / n);
        if (work_s * oversubscription > kMaxStepWallS) {
            work_s = kMaxStepWallS / oversubscription;
            if (shortened) shortened->push_back(fmt::format("K={}: {:.3f} s of CPU each", p.k, work_s));
        }
        // The T1 threads start on one CPU and are then allowed all: the scheduler's moves are its own.
        const int start_cpu = p.threads && setup.pin < 0 && n > 1 ? setup.cpus.front() : -1;
        const WorkParams params{
            static_cast<Nanos>(work_s * 1e9), cal.threshold_ns, cal.chunk_iterations, setup.pin, start_cpu, nullptr};
        steps.push_back(run_step(p.k, p.threads, setup.cpus, params));
    }
    return steps;
}

}  // namespace

// The plan: R independent trials of the whole sweep, each decided on its own with the
// interference around it (trials.hpp), then the report of the trial shown (report.hpp).
Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    (void)run_jiffies();  // the tick is counted over the whole run
    Sweep sweep{setup.cpus, setup.threads, calibrate(ctx.clock), {}, {}};
    sweep.trials = run_trials(
        ctx.trials(), setup.cpus,
        [&](int trial) { return run_sweep(setup, sweep.calibration, trial == 0 ? &sweep.shortened : nullptr); },
        [&](const std::vector<StepResult>& steps, const Interference& interference) {
            // P4 first: the trial shown is the first whose P4 verdict is the combined one.
            return std::vector<Decision>{decide_p4(steps, interference, ctx.env.cpu_quota_cpus),
                                         decide_p2(steps, slice_facts(ctx, steps), interference),
                                         decide_t1(steps, setup.pin >= 0, interference)};
        });
    Result result;
    present(result, ctx, sweep);
    // K = N, 2N, 4N count logical CPUs: where SMT siblings are among them, say what one is.
    if (const auto smt = smt_sentence(read_topology(setup.cpus)))
        result.notes.push_back(*smt + " The steps' K = N, 2N and 4N count logical CPUs.");
    for (const auto& d : sweep.trials.combined) result.add_decision(d);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "time_slicing",
        .title = "workers compete for CPUs: the slices they get, their shares, and the kernel's own counts",
        .claims = {"P2", "P4", "T1"},
        .rules = {kP2Rule, kP4Rule, kT1Rule},
        .default_timeout_s = 120,
        .trials = true,
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::time_slicing

PROCLAB_DEMO_MAIN(proclab::time_slicing::spec)
