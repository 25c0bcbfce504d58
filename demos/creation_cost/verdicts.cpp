#include "creation_cost/verdicts.hpp"

#include <fmt/format.h>

namespace proclab::creation_cost {

const RuleInfo kT8Rule{
    .claim = "T8",
    .evidence =
        "std::thread create + join, and an empty task handed to a running pool's worker on another CPU and back (the "
        "caller "
        "waiting without running it), medians over many each, in R trials with the interference around each; the cache "
        "line's "
        "round trip between the two CPUs as the hand-off's floor",
    .refuted_by = "creating a thread costing no more than a pool hand-off, with the CPUs free",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "a thread costs 3x a hand-off or more, the CPUs free",
         .reached_by = "T8 follows the ratio of thread creation to a pool hand-off"},
        {.verdict = Verdict::nuanced,
         .when = "dearer, but under 3x: a pool pays off only for short tasks",
         .reached_by = "T8 follows the ratio of thread creation to a pool hand-off"},
        {.verdict = Verdict::refuted,
         .when = "no dearer than a hand-off, the CPUs free",
         .reached_by = "T8 follows the ratio of thread creation to a pool hand-off"},
        {.verdict = Verdict::not_measured,
         .when = "a figure that is not a hand-off (a task the caller ran itself, or faster than the cache line's "
                 "round trip), other load not surely below the margin (either way: it slows a hand-off and a new "
                 "thread alike), "
                 "or a cgroup CPU quota below the CPU count",
         .reached_by = "T8: load decides nothing, in either direction"}}};

Decision decide_t8(const Costs& c) {
    Rule rule(kT8Rule);
    const auto& p = c.pool;
    if (p.samples == 0 || c.thread.count == 0)
        return rule.not_measured("the thread or the pool measurement is missing", "not measured");
    rule.use(number_fact("thread_create_join", c.thread.median, "ns", "std::thread create + join, median"));
    // The hand-off figure, checked on both sides: a worker ran every task, and the round trip is
    // not faster than a cache line's trip to the worker's CPU and back.
    Fact on_worker = number_fact("handoffs_on_worker", double(p.on_worker) / double(p.samples), "fraction",
                                 "the share of the timed tasks a worker ran (not the caller itself)");
    on_worker.floor = Bound{1.0, "every task run by the worker: a task the caller ran itself was not handed off", 0.0};
    rule.use(on_worker);
    Fact handoff = number_fact("pool_handoff", p.round_trip.median, "ns",
                               "an empty task handed to a pool's worker and back, median");
    if (p.line_one_way_ns)
        handoff.floor = Bound{2 * *p.line_one_way_ns,
                              fmt::format("two one-way trips of a cache line between CPUs {} and {}, each {}",
                                          p.caller_cpu, p.worker_cpu, p.line_source)};
    rule.use(handoff);
    rule.use(count_fact("caller_cpu", p.caller_cpu, "the CPU the caller ran on"));
    rule.use(count_fact("worker_cpu", p.worker_cpu, "the CPU the pool's worker ran on"));
    const double ratio = c.thread.median / p.round_trip.median;
    rule.use(number_fact("ratio", ratio, "x", "thread create + join over the hand-off"));
    rule.use(number_fact("costly_threshold", kCostlyRatio, "x", "a thread at least this much dearer is costly"));
    const std::string handoff_text =
        "std::thread create + join {thread_create_join} against {pool_handoff} to hand an empty task to a "
        "running pool's worker on CPU {worker_cpu} and back to the caller on CPU {caller_cpu}, which waited "
        "without running it: {ratio}";
    std::string summary = "thread create+join {thread_create_join}, pool hand-off {pool_handoff} ({ratio})";
    std::string fork;
    if (c.fork_ns) {
        rule.use(number_fact("fork", *c.fork_ns, "ns", "fork + exit + wait, median (table 1)"));
        fork = "; a process (fork + exit + wait) {fork}";
        summary += ", fork {fork}";
    }
    // Load moves the ratio both ways: a hand-off waits for the worker to get a CPU (toward refuted),
    // and a new thread at a low priority waits for its first slice (toward confirmed: 3433x was
    // recorded at nice 19 beside a busy loop). So no verdict stands unless the load was surely
    // below the margin, counting resolution included.
    // A cgroup CPU quota below the CPUs throttles the caller, the worker and the new thread in
    // periods, which /proc/stat's interference does not see: no verdict, the quota named.
    if (c.quota_cpus && *c.quota_cpus < c.cpus) {
        rule.use(
            number_fact("cpu_quota", *c.quota_cpus, "CPUs", "the cgroup's CPU quota (CPU time per period, in CPUs)"));
        return rule.not_measured(handoff_text + fork +
                                     ": a CPU quota of {cpu_quota} (cgroup) throttles the caller, the worker and a new "
                                     "thread alike, so neither figure is the OS's cost alone",
                                 summary + "; CPU quota {cpu_quota}");
    }
    const std::string load = use_interference(rule, c.interference, kInterferenceMargin);
    if (!c.interference.clear_of(kInterferenceMargin))
        return rule.not_measured(handoff_text + fork +
                                     ": a hand-off waits for the worker to get a CPU, and a new thread for its first "
                                     "slice; other load was not surely below the margin: " +
                                     load,
                                 summary + "; " + interference_summary(rule, c.interference, kInterferenceMargin));
    if (ratio <= 1)
        return rule.refuted(
            "creating a thread was no dearer than a pool hand-off: " + handoff_text + fork + "; " + load, summary);
    if (ratio < kCostlyRatio)
        return rule.nuanced(
            handoff_text + ", dearer but under {costly_threshold}: a pool pays off only for short tasks" + fork,
            summary);
    return rule.confirmed(handoff_text + ", at least {costly_threshold}" + fork, summary);
}

}  // namespace proclab::creation_cost
