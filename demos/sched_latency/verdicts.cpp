#include "sched_latency/verdicts.hpp"

#include "proclab/stats.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace proclab::sched_latency {

const RuleInfo kP2Rule{
    .claim = "P2",
    .evidence =
        "timer lateness of a SCHED_OTHER sleeper (clock_nanosleep to absolute deadlines) beside CPU-bound processes, "
        "more runnable "
        "tasks than CPUs: its p50 and p99 against a turn of the run queue (ceil(runnable / CPUs) slices of at most one "
        "tick, the "
        "tick observed from the timer interrupts); its run_delay per wake-up (schedstat); SCHED_FIFO at the same load "
        "beside it; "
        "other load on the CPUs",
    .refuted_by = "a woken task starved: its median wait 10 turns of the run queue or more",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "under load the woken task ran within a turn of the run queue (p99 at most the turn bound)",
         .reached_by = "sched_latency P2: a woken task that runs within a turn confirms"},
        {.verdict = Verdict::nuanced,
         .when = "it waited beyond a turn at the tail (p99 above the bound) but not starved",
         .reached_by = "sched_latency P2: a tail beyond a turn is nuanced, starvation refutes, other load makes both "
                       "not-measured"},
        {.verdict = Verdict::refuted,
         .when = "median wait of 10 turns or more: the scheduler let it starve",
         .reached_by = "sched_latency P2: a tail beyond a turn is nuanced, starvation refutes, other load makes both "
                       "not-measured"},
        {.verdict = Verdict::not_measured,
         .when = "no loaded SCHED_OTHER cell with more runnable tasks than CPUs, or a long wait with other load not "
                 "surely below the margin or under a cgroup CPU quota below the CPU count",
         .reached_by = "sched_latency P2: nothing to wait for, or no SCHED_OTHER sleeper, is not-measured"}}};

double turn_bound_ns(int load_tasks, int cpus, double tick_ns) {
    const int runnable = load_tasks + 1;
    return std::ceil(double(runnable) / double(std::max(1, cpus))) * tick_ns;
}

Decision decide_p2(const std::vector<LatenessCell>& cells, std::optional<double> tick_ns,
                   const Interference& interference, std::optional<double> quota_cpus, bool tick_from_jiffies) {
    Rule rule(kP2Rule);
    const LatenessCell* loaded = nullptr;
    for (const auto& c : cells)
        if (c.policy == Policy::other && c.refused.empty() && !c.samples_ns.empty() && c.load_tasks + 1 > c.cpus &&
            (!loaded || c.load_tasks > loaded->load_tasks))
            loaded = &c;
    if (!loaded)
        return rule.not_measured(
            "no SCHED_OTHER cell had more runnable tasks than CPUs (a load of at least the CPU count beside the "
            "sleeper): nothing had to wait for a turn",
            "no loaded SCHED_OTHER cell");
    std::vector<double> sorted = loaded->samples_ns;
    std::sort(sorted.begin(), sorted.end());
    rule.use(count_fact("load", loaded->load_tasks, "CPU-bound processes beside the sleeper"));
    rule.use(count_fact("cpus", loaded->cpus, "CPUs they could use"));
    rule.use(count_fact("wakeups", static_cast<long long>(sorted.size()), "wake-ups measured"));
    const double p50 = rule.number(number_fact("p50", percentile_sorted(sorted, 50), "ns", "median lateness"));
    const double p99 =
        rule.number(number_fact("p99", percentile_sorted(sorted, 99), "ns", "99th percentile of the lateness"));
    const double tick = tick_ns.value_or(kCoarsestTickNs);
    if (tick_ns && tick_from_jiffies)
        rule.use(number_fact("tick", tick, "ns", "the timer tick: the kernel's jiffies over the run (CONFIG_HZ)"));
    else if (tick_ns)
        rule.use(number_fact(
            "tick", tick, "ns",
            "one local timer interrupt per this on the busy CPUs, less the sleeper's own (other timers too: the tick "
            "is at least this)"));
    else
        rule.use(number_fact("tick", tick, "ns",
                             "the coarsest tick Linux is built with (HZ=100): no tick could be observed"));
    const double bound =
        rule.number(number_fact("turn_bound", turn_bound_ns(loaded->load_tasks, loaded->cpus, tick), "ns",
                                "a turn of the run queue: ceil(runnable / CPUs) slices of at most one tick"));
    std::string extra;
    if (loaded->run_delay_per_wakeup_ns >= 0) {
        rule.use(number_fact("run_delay", loaded->run_delay_per_wakeup_ns, "ns",
                             "run_delay per wake-up (schedstat: runnable, not running)"));
        extra += ", run_delay {run_delay} per wake-up";
    }
    for (const auto& c : cells)
        if (c.policy == Policy::fifo && c.load_tasks == loaded->load_tasks && c.refused.empty() &&
            !c.samples_ns.empty()) {
            std::vector<double> f = c.samples_ns;
            std::sort(f.begin(), f.end());
            rule.use(number_fact("fifo_p99", percentile_sorted(f, 99), "ns", "SCHED_FIFO's p99 at the same load"));
            extra += "; SCHED_FIFO at the same load: p99 {fifo_p99}";
        }
    const std::string evidence =
        "a SCHED_OTHER sleeper beside {load} CPU-bound processes on {cpus:count CPU} woke {wakeups:count time}: "
        "lateness p50 {p50}, p99 {p99} against a turn of {turn_bound} (tick {tick})" +
        extra;
    const std::string summary = "beside {load} busy processes on {cpus:count CPU}: p99 {p99}, a turn {turn_bound}";
    if (p99 <= bound) return rule.confirmed("the woken task ran within a turn of the run queue: " + evidence, summary);
    rule.use(number_fact("starved_turns", kStarvedTurns, "x", "the median wait, in turns, that refutes"));
    if (quota_cpus && *quota_cpus < loaded->cpus) {
        rule.use(
            number_fact("cpu_quota", *quota_cpus, "CPUs", "the cgroup's CPU quota (CPU time per period, in CPUs)"));
        return rule.not_measured(
            "the wait was long, but a CPU quota of {cpu_quota} (cgroup) throttles the sleeper and its load together "
            "until the next period, so the wait is the quota's, not the scheduler's: " +
                evidence,
            summary + "; CPU quota {cpu_quota}");
    }
    const std::string load = use_interference(rule, interference, kInterferenceMargin);
    if (!interference.clear_of(kInterferenceMargin))
        return rule.not_measured("the wait was long but the CPUs were not surely ours alone: " + load + ": " + evidence,
                                 summary + "; " + interference_summary(rule, interference, kInterferenceMargin));
    if (p50 >= kStarvedTurns * bound)
        return rule.refuted(
            "the woken task starved, its median wait at least {starved_turns} turns: " + evidence + "; " + load,
            summary);
    return rule.nuanced(
        "the woken task waited beyond a turn at the tail, though it was not starved (median under {starved_turns} "
        "turns): " +
            evidence + "; " + load,
        summary);
}

}  // namespace proclab::sched_latency
