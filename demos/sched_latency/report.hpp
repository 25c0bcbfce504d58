// sched_latency's report: tables, metrics and raw series from what was measured. Nothing is
// measured here and nothing is printed.
#pragma once

#include "sched_latency/messaging.hpp"
#include "sched_latency/probes.hpp"
#include "sched_latency/verdicts.hpp"

#include "proclab/demo.hpp"
#include "proclab/interference.hpp"

#include <optional>
#include <vector>

namespace proclab::sched_latency {

struct WakeupCell {
    Channel channel = Channel::futex;
    Kind kind = Kind::threads;
    int load_tasks = 0;
    Samples samples;
};

inline constexpr int kMessagingRuns = 3;  // timed runs of each configuration (--quick: 1); the median is the figure

struct MessagingCell {
    MessagingConfig config;
    MessagingResult result;      // the run with the median total
    std::vector<double> totals;  // every timed run's total, ns
};

struct Measured {
    int cpus = 1;
    std::optional<int> pin_cpu;
    Nanos interval_ns = 0, duration_ns = 0;
    std::vector<LatenessCell> lateness;
    std::vector<Samples> lateness_samples;  // beside each lateness cell: slack, planned wake-ups, the kernel's view
    std::optional<double>
        tick_ns;  // the kernel's jiffies over the run, else the interrupts of the most loaded SCHED_OTHER cell
    bool tick_from_jiffies = false;
    std::string tick_unknown;
    Interference interference;  // around that cell
    std::vector<WakeupCell> wakeups;
    std::vector<MessagingCell> messaging;
};

// "idle", "2 busy (1x CPUs)"
std::string load_label(int load_tasks, int cpus);

void present(Result& result, const DemoContext& ctx, const Measured& m);

}  // namespace proclab::sched_latency
