// time_slicing's verdicts (P2, P4, T1): pure functions of the steps of one trial, unit-tested in
// tests/unit/test_time_slicing.cpp. Each names what would refute its claim and tests exactly that;
// the share-based parts are judged only when other load stayed below the interference margin.
#pragma once

#include "time_slicing/steps.hpp"

#include "proclab/evidence.hpp"
#include "proclab/interference.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::time_slicing {

// Thresholds of the verdicts, stated once.
inline constexpr double kSliceRatioLow = 0.5;    // observed / configured base slice outside [0.5, 2]:
inline constexpr double kSliceRatioHigh = 2.0;   //   the slice is not what is configured
inline constexpr double kBusyCpus = 0.80;        // P4: at K >= CPUs the CPUs were busy >= 80% of the time
inline constexpr double kRanAlone = 0.80;        // P4: at K <= CPUs every worker got >= 80% of a CPU
inline constexpr double kOvercommitted = 0.05;   // P4 refuted: the kernel counted > 5% more CPU time than the CPUs had
inline constexpr double kCoarsestTickNs = 10e6;  // a schedstat run time lags by up to a tick: 10 ms at HZ=100
inline constexpr double kUnfair = 0.80;  // below this Jain's index is named as run-queue imbalance (not a verdict)
inline constexpr double kInterferenceMargin = 0.15;  // other tasks + steal above 15% of the CPUs: shares not judged

struct KernelSliceFacts {
    std::optional<double> base_slice_ns;   // configured (debugfs), when readable
    std::string base_slice_unknown;        // why not
    std::optional<double> tick_ns;         // 1 / local timer interrupts per busy CPU-second: ticks and any other timer
    std::optional<double> kernel_tick_ns;  // the tick as the kernel counts it (jiffies over the run): CONFIG_HZ
};

extern const RuleInfo kP2Rule, kP4Rule, kT1Rule;

// A duration in milliseconds with two decimals ("1.25 ms").
std::string ms(double ns);

// The process steps (the threads step of the default sweep is T1's, not P4's).
std::vector<const StepResult*> process_steps(const std::vector<StepResult>& steps);
// The most over-subscribed step (the largest K above the CPU count), processes first.
const StepResult* most_oversubscribed(const std::vector<StepResult>& steps);
// The balancer's figures of a step, in words: the longest run without a break, the first move.
std::string balance_note(const StepResult& s);
// Workers that ran on more than one CPU: seen by the loop's sched_getcpu, by the kernel's
// migration count, or in their run intervals.
int workers_moved(const StepResult& s);

// P4: what would refute it is more workers running at once than there are CPUs. The direct
// evidence is the kernel's: the workers' schedstat run time in a step beyond what the CPUs could
// give in its wall time (beyond its counting resolution, a tick per worker). The run intervals
// from clock gaps are a picture only: a preemption shorter than the gap threshold is invisible in
// them, so they can show more at once than there are CPUs (then they are named, and not used). The
// shares are judged on the CPU time delivered against the CPUs' capacity while enough work was
// waiting (not on per-worker shares, which per-CPU run queues make uneven until the balancer moves
// a worker), and only when other load was surely below the margin, its resolution included.
// `quota_cpus`: the cgroup's CPU quota (Environment::cpu_quota_cpus); below the CPU count it, not
// the competition between the workers, bounds how the CPUs are shared: the verdict says so.
Decision decide_p4(const std::vector<StepResult>& steps, const Interference& interference,
                   std::optional<double> quota_cpus = std::nullopt);
// P2: what would refute it is over-subscribed workers running one after another, never
// preempted; that is what is tested, at the most over-subscribed step. The slice is compared with
// the configured base slice where that is readable (a fixed fact of this machine).
Decision decide_p2(const std::vector<StepResult>& steps, const KernelSliceFacts& facts,
                   const Interference& interference);
// T1: what would refute it is threads without their own kernel identity and counts. That the
// scheduler moves them on its own is shown by starting every thread on one CPU and allowing all:
// an idle CPU pulls work within milliseconds, so this does not hang on the chance of a migration
// in a short window.
Decision decide_t1(const std::vector<StepResult>& steps, bool pinned, const Interference& interference);

}  // namespace proclab::time_slicing
