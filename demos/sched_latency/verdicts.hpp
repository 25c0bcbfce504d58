// sched_latency's verdict (P2): a pure function of the measured lateness, unit-tested in
// tests/unit/test_sched_latency.cpp on hand-made evidence.
//
// P2 says the OS gives each process time slices and decides by itself which runs next. What time
// slicing promises a task that wakes on a busy machine is a bounded wait: no longer than a turn
// of the run queue, the tasks queued on its CPU ahead of it each running a slice that ends at a
// tick at the latest. What would refute it is a woken task left waiting far beyond that: starved.
#pragma once

#include "sched_latency/probes.hpp"

#include "proclab/evidence.hpp"
#include "proclab/interference.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::sched_latency {

// Thresholds, stated once.
inline constexpr double kCoarsestTickNs =
    10e6;  // HZ=100, the coarsest tick Linux is built with: used where none is observed
inline constexpr double kStarvedTurns = 10;  // a median wait of 10 turns or more: starved (refutes)
inline constexpr double kInterferenceMargin =
    0.15;  // other tasks + steal above 15% of the CPUs: a long wait is not judged

extern const RuleInfo kP2Rule;

// One cell of the timer-lateness grid, as the rule reads it.
struct LatenessCell {
    Policy policy = Policy::other;
    int load_tasks = 0;  // CPU-bound processes beside the sleeper
    int cpus = 1;        // CPUs the sleeper and the load could use
    std::vector<double> samples_ns;
    std::string refused;                  // the policy could not be set: why
    double run_delay_per_wakeup_ns = -1;  // -1: unknown
};

// The turn bound: ceil((load + 1) / CPUs) slices of at most one tick each.
double turn_bound_ns(int load_tasks, int cpus, double tick_ns);

// P2 from the most loaded SCHED_OTHER cell with more runnable tasks than CPUs (and, shown beside
// it, SCHED_FIFO at the same load). tick_ns: as observed in that cell, nullopt when unknown.
// `quota_cpus`: the cgroup's CPU quota; below the CPU count a throttled group waits for its next
// period, so a wait beyond a turn there is the quota's, not the scheduler's: not-measured, named.
// `tick_from_jiffies`: tick_ns is the kernel's own count (jiffies over the run), not the local
// timer interrupts' interval (which any other timer adds to).
Decision decide_p2(const std::vector<LatenessCell>& cells, std::optional<double> tick_ns,
                   const Interference& interference, std::optional<double> quota_cpus = std::nullopt,
                   bool tick_from_jiffies = false);

}  // namespace proclab::sched_latency
