// time_slicing's step: K workers started together behind a barrier, each needing the same CPU
// time, and what their run intervals and the kernel's counts say about the step as a whole.
#pragma once

#include "time_slicing/workers.hpp"

#include <optional>
#include <set>
#include <vector>

namespace proclab::time_slicing {

struct WorkerResult {
    int pid = 0, tid = 0;
    Nanos run_ns = 0, wall_ns = 0;
    double share = 0;         // run time (gaps) / its wall time since the start
    double kernel_share = 0;  // schedstat run time / the same wall time
    std::uint64_t gaps = 0;
    std::vector<Interval> intervals;
    std::uint32_t dropped = 0;
    std::int64_t run_kernel_ns = -1, wait_kernel_ns = -1, slices_kernel = -1;
    std::int64_t voluntary = -1, involuntary = -1, migrations = -1;
    std::set<int> cpus;
    int first_cpu = -1;
    std::optional<Nanos> first_move_ns;  // since the go
};

struct StepResult {
    int k = 0;
    bool threads = false;
    int cpus = 0;  // CPUs the workers may use
    Nanos work_ns = 0;
    Nanos go_at = 0;
    Nanos wall_ns = 0;
    std::vector<WorkerResult> workers;
    std::vector<double> slices_ns;        // run intervals between two gaps (partial first/last excluded)
    std::vector<double> kernel_slice_ns;  // per worker: schedstat run time / slices
    double mean_share = 0, min_share = 0, max_share = 0, jain = 1;
    double expected_share = 1, expected_wall_ns = 0;
    double involuntary_per_s = 0;
    std::int64_t migrations = 0;
    std::optional<double> ticks_per_busy_cpu_s;
    bool started_on_one_cpu = false;
    // The kernel's count: every worker's schedstat run time over its own run, summed; -1 when a
    // worker's could not be read. It cannot exceed what the CPUs could give in the step's wall time.
    std::int64_t kernel_run_ns = -1;
    // From the run intervals of all workers together (a picture, as fine as the gap threshold: a
    // worker preempted for less than that still looks as if it ran):
    Nanos gap_threshold_ns = 0;
    int max_running = 0;                 // most workers running at one instant
    Nanos overcommitted_ns = 0;          // time during which more workers ran than there are CPUs
    double busy_cpus_fraction = 0;       // CPU time delivered / capacity of min(K, CPUs) CPUs until the first finished
    std::optional<Nanos> first_move_ns;  // earliest move of any worker to another CPU, since the go
    Nanos longest_run_ns = 0;            // longest run without a gap of any worker (a worker alone on a CPU)
};

// How many ran at once: the most at one instant, and how long more than `cpus` ran (a sweep over
// the intervals' ends; touching intervals do not overlap).
struct Concurrency {
    int max_running = 0;
    Nanos above_ns = 0;
};

Concurrency concurrency(const std::vector<WorkerResult>& workers, int cpus);

// CPU time delivered to the workers while every one of them still had work (until the first
// finished), over the capacity of min(K, CPUs) CPUs in that time: 1 when no CPU idled while
// work waited. After the first finish, per-CPU run queues can leave a CPU idle until the load
// balancer moves a worker: that is measured apart (first_move_ns, longest_run_ns).
double busy_cpus_fraction(const std::vector<WorkerResult>& workers, int cpus, Nanos go_at);

// The figures of a step that come from all workers' run intervals together.
void derive_from_intervals(StepResult& step);

// Runs one step: K workers (processes, or threads of this process) on `cpus`, every one reaped.
StepResult run_step(int k, bool threads, const std::vector<int>& cpus, WorkParams params);

}  // namespace proclab::time_slicing
