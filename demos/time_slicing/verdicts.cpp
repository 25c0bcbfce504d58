#include "time_slicing/verdicts.hpp"

#include <algorithm>
#include <climits>
#include <set>

#include <fmt/format.h>

namespace proclab::time_slicing {

const RuleInfo kP4Rule{
    .claim = "P4",
    .evidence =
        "K CPU-bound workers for K = 1, CPUs, 2x and 4x CPUs: the kernel's count of their CPU time (schedstat) against "
        "what "
        "the CPUs could give in each step's wall time; from every worker's run intervals (clock gaps, a picture as "
        "fine as "
        "the gap threshold), the most running at one instant, the least share of a CPU a worker got while K <= CPUs, "
        "and the "
        "CPU time delivered against the CPUs' capacity while every worker still had work, for K > CPUs; other load "
        "around "
        "each trial",
    .refuted_by =
        "the kernel counting more CPU time for the workers than the CPUs could give in the step (beyond 5% and a tick "
        "per worker)",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "up to the CPU count the workers ran at once, above it the kernel counted no more than the CPUs could "
                 "give and the CPUs stayed busy",
         .reached_by = "P4 is confirmed when all run at once up to the CPU count and take turns above it"},
        {.verdict = Verdict::nuanced,
         .when =
             "no more than the CPUs could give, but the CPUs idled while work waited with no other load to explain it "
             "(the balancer's delay), or a cgroup CPU quota below the CPU count bounds the workers",
         .reached_by = "P4 under load is not-measured, never refuted"},
        {.verdict = Verdict::refuted,
         .when = "the kernel counted more CPU time than the CPUs could give",
         .reached_by = "P4 is refuted only by the kernel counting more CPU time than the CPUs could give"},
        {.verdict = Verdict::not_measured,
         .when = "no step over the CPU count; other load not surely below the margin; or the clock-gap picture too "
                 "coarse to judge the shares (more at once than CPUs, which the kernel's counts exclude)",
         .reached_by =
             "P4: clock gaps that show more at once than CPUs never refute; the picture is named as too coarse"}}};

const RuleInfo kP2Rule{
    .claim = "P2",
    .evidence =
        "the most over-subscribed step (4x CPUs): each worker's slices between gaps in its clock, its involuntary "
        "context "
        "switches, the shares; the configured base slice (debugfs) and the timer tick as observed",
    .refuted_by = "over-subscribed workers running one after another, none preempted",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "workers preempted and run in turns, the slice near the configured base slice (or that unknown)",
         .reached_by =
             "P2 is confirmed by slices handed out in turn, and nuanced against a different configured slice"},
        {.verdict = Verdict::nuanced,
         .when =
             "turns, but the observed slice far from the configured one (slices end at ticks); or workers preempted "
             "(the kernel's involuntary switches) but fewer in turns than had to wait",
         .reached_by =
             "P2 is confirmed by slices handed out in turn, and nuanced against a different configured slice"},
        {.verdict = Verdict::refuted,
         .when = "no worker preempted, by the kernel's count and by its clock",
         .reached_by = "P2 is refuted when over-subscribed workers ran one after another"},
        {.verdict = Verdict::not_measured,
         .when = "no step with more workers than CPUs",
         .reached_by = "P2 is not measured when nobody had to take turns"}}};

constexpr const char* kT1Test =
    "T1 needs threads with their own tids and stats, and the scheduler's own move to be confirmed";
const RuleInfo kT1Rule{
    .claim = "T1",
    .evidence =
        "2x CPUs threads of one process, all started on one CPU and then allowed every CPU: their tids, their own "
        "schedstat, "
        "the CPU each ran on at every loop step",
    .refuted_by = "threads without their own kernel identity (a shared tid, no schedstat of their own)",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "own tids and counts, and the scheduler moved threads to a free CPU on its own",
         .reached_by = kT1Test},
        {.verdict = Verdict::nuanced,
         .when = "own tids and counts, but no move was possible (pinned, one CPU) or none was seen with a CPU free",
         .reached_by = kT1Test},
        {.verdict = Verdict::refuted,
         .when = "a shared tid, or a thread without its own counts",
         .reached_by = kT1Test},
        {.verdict = Verdict::not_measured,
         .when = "no thread step, or no move seen while other load took the CPUs",
         .reached_by = kT1Test}}};

std::string ms(double ns) { return fmt::format("{:.2f} ms", ns / 1e6); }

std::vector<const StepResult*> process_steps(const std::vector<StepResult>& steps) {
    std::vector<const StepResult*> out;
    const bool any_processes = std::any_of(steps.begin(), steps.end(), [](const auto& x) { return !x.threads; });
    for (const auto& s : steps)
        if (!(s.threads && any_processes)) out.push_back(&s);
    return out;
}

const StepResult* most_oversubscribed(const std::vector<StepResult>& steps) {
    const StepResult* best = nullptr;
    for (const auto* s : process_steps(steps))
        if (s->k > s->cpus && (!best || s->k > best->k)) best = s;
    return best;
}

std::string balance_note(const StepResult& s) {
    return fmt::format("longest run without a break {}, first move to another CPU {}", ms(double(s.longest_run_ns)),
                       s.first_move_ns ? "after " + ms(double(*s.first_move_ns)) : "not seen");
}

namespace {

// Shares are of a CPU: above 1 is an error of the gap-based run times, not a result.
Fact share_fact(std::string id, double value, std::string what) {
    Fact f = number_fact(std::move(id), value, "ratio", std::move(what));
    f.ceiling = Bound{1.0, "one CPU's whole time", 0.05};
    return f;
}

}  // namespace

Decision decide_p4(const std::vector<StepResult>& steps, const Interference& interference,
                   std::optional<double> quota_cpus) {
    Rule rule(kP4Rule);
    const int cpus = steps.empty() ? 0 : steps.front().cpus;
    rule.use(count_fact("cpus", cpus, "CPUs the workers may use"));
    bool any_over = false;
    int most = 0;
    for (const auto* s : process_steps(steps)) {
        any_over = any_over || s->k > s->cpus;
        most = std::max(most, s->max_running);
    }
    // A step's kernel count and capacity as facts (K > CPUs, schedstat readable); returns "k<K>".
    const auto use_kernel_count = [&](const StepResult& s) {
        const std::string k = fmt::format("k{}", s.k);
        rule.use(count_fact(k, s.k, "workers in the step"));
        rule.use(number_fact(k + "_kernel_run", double(s.kernel_run_ns), "ns",
                             "the workers' CPU time as the kernel counted it (schedstat)"));
        rule.use(number_fact(k + "_capacity", double(s.cpus) * double(s.wall_ns), "ns",
                             "what the CPUs could give in the step's wall time"));
        return k;
    };
    // The direct evidence: what the kernel counted against what the CPUs could give.
    for (const auto* s : process_steps(steps)) {
        if (s->k <= s->cpus || s->kernel_run_ns < 0 || s->wall_ns <= 0) continue;
        const double capacity = double(s->cpus) * double(s->wall_ns);
        const double resolution = double(s->k) * kCoarsestTickNs;
        if (double(s->kernel_run_ns) <= capacity * (1 + kOvercommitted) + resolution) continue;
        const std::string k = use_kernel_count(*s);
        rule.use(number_fact(k + "_kernel_resolution", resolution, "ns",
                             "the count's resolution: a tick (at most 10 ms) per worker"));
        rule.use(number_fact("overcommit_threshold", kOvercommitted, "fraction",
                             "the excess over the capacity that refutes"));
        return rule.refuted(
            fmt::format(
                "at K={{{0}}} the kernel counted {{{0}_kernel_run}} of CPU time for the workers, more than {{cpus}} "
                "CPUs could give in the step ({{{0}_capacity}}) by over {{overcommit_threshold}} and its "
                "resolution {{{0}_kernel_resolution}}",
                k),
            fmt::format("K={{{0}}}: {{{0}_kernel_run}} of CPU time in {{{0}_capacity}} of capacity", k));
    }
    rule.use(count_fact("most_at_once", most, "the most workers running at one instant in any step (clock gaps)"));
    std::string summary;
    for (const auto* s : process_steps(steps))
        summary += fmt::format("{}K={{k{}}} {{k{}_{}}}", summary.empty() ? "" : ", ", s->k, s->k,
                               s->k > s->cpus ? "capacity_used" : "least_share");
    summary =
        "capacity used (K<=CPUs: least share): " + summary + "; at most {most_at_once} at once on {cpus:count CPU}";
    // The steps in words, from the clock-gap picture; `all_busy` says whether the CPUs were kept busy.
    bool all_busy = true;
    const auto describe_steps = [&] {
        rule.use(number_fact("alone_threshold", kRanAlone, "ratio",
                             "the least share of a CPU each worker needs while K <= CPUs"));
        rule.use(number_fact("busy_threshold", kBusyCpus, "ratio",
                             "the share of the CPUs' capacity used, needed while K > CPUs"));
        std::vector<std::string> parts;
        for (const auto* s : process_steps(steps)) {
            const std::string k = fmt::format("k{}", s->k);
            rule.use(count_fact(k, s->k, "workers in the step"));
            rule.use(count_fact(k + "_most_at_once", s->max_running,
                                "the most workers running at one instant (clock gaps)"));
            if (s->k <= s->cpus) {
                rule.use(share_fact(k + "_least_share", s->min_share,
                                    "the least share of a CPU a worker got (run / its own wall time)"));
                all_busy = all_busy && s->min_share >= kRanAlone;
                parts.push_back(
                    fmt::format("K={{{0}}}: least share {{{0}_least_share}}, at most {{{0}_most_at_once}} at once", k));
            } else {
                Fact busy = number_fact(k + "_capacity_used", s->busy_cpus_fraction, "ratio",
                                        "CPU time delivered / the CPUs' capacity while every worker still had work");
                busy.ceiling = Bound{1.0, "the CPUs' whole capacity", 0.05};
                rule.use(busy);
                rule.use(number_fact(k + "_wall_over_work",
                                     s->work_ns > 0 ? double(s->wall_ns) / double(s->work_ns) : 0, "x",
                                     "the step's wall time against one worker's CPU work"));
                all_busy = all_busy && s->busy_cpus_fraction >= kBusyCpus;
                parts.push_back(fmt::format(
                    "K={{{0}}}: at most {{{0}_most_at_once}} at once, capacity used {{{0}_capacity_used}}, wall "
                    "{{{0}_wall_over_work}} the work",
                    k));
            }
        }
        return fmt::format("{} on {{cpus:count CPU}}", fmt::join(parts, "; "));
    };
    if (!any_over)
        return rule.not_measured("no step had more runnable workers than CPUs: " + describe_steps(), summary);
    // Interference first, in both directions: load of the moment can make the CPUs look idle,
    // and its CPU time is in the shares too.
    const std::string load = use_interference(rule, interference, kInterferenceMargin);
    if (!interference.clear_of(kInterferenceMargin)) {
        // The shares would count the load's time too (and clock gaps miss its short runs), so only
        // the kernel's counts are quoted.
        std::vector<std::string> counted;
        for (const auto* s : process_steps(steps)) {
            if (s->k <= s->cpus || s->kernel_run_ns < 0) continue;
            const std::string k = use_kernel_count(*s);
            counted.push_back(fmt::format(
                "K={{{0}}}: the kernel counted {{{0}_kernel_run}} of CPU time in {{{0}_capacity}} of capacity", k));
        }
        return rule.not_measured(
            "other load was not surely below the margin, so the shares are not the OS's alone: " + load +
                (counted.empty() ? std::string() : fmt::format("; {}", fmt::join(counted, "; "))),
            interference_summary(rule, interference, kInterferenceMargin));
    }
    for (const auto* s : process_steps(steps)) {
        if (s->max_running <= s->cpus) continue;
        // Impossible as a fact (the kernel's counts above found no excess): the picture missed
        // preemptions shorter than its gap threshold, so its shares are not evidence either.
        const std::string k = fmt::format("k{}", s->k);
        rule.use(count_fact(k, s->k, "workers in the step"));
        rule.use(
            count_fact(k + "_most_at_once", s->max_running, "the most workers running at one instant (clock gaps)"));
        rule.use(number_fact("gap_threshold", double(s->gap_threshold_ns), "ns",
                             "the least time off a CPU the clock gaps can see"));
        return rule.not_measured(
            fmt::format("at K={{{0}}} the clock-gap picture shows {{{0}_most_at_once}} at once on {{cpus:count CPU}}, "
                        "which cannot be: it misses any preemption shorter than its gap threshold "
                        "{{gap_threshold}}, so its shares are not evidence here",
                        k),
            fmt::format("K={{{0}}}: clock gaps too coarse ({{{0}_most_at_once}} at once on {{cpus:count CPU}})", k));
    }
    const std::string evidence = describe_steps();
    if (quota_cpus && *quota_cpus < cpus) {
        rule.use(
            number_fact("cpu_quota", *quota_cpus, "CPUs", "the cgroup's CPU quota (CPU time per period, in CPUs)"));
        return rule.nuanced(
            "at most {most_at_once} ran at once on {cpus:count CPU} and the kernel counted no more than they could "
            "give, "
            "but a "
            "CPU quota of {cpu_quota} (cgroup) bounds the workers below the CPU count: the quota, not only their "
            "competition, decides how much of the CPUs they get: " +
                evidence,
            summary + "; CPU quota {cpu_quota}");
    }
    if (!all_busy)
        return rule.nuanced(
            "at most {most_at_once} ran at once on {cpus:count CPU}, but the CPUs idled while work waited, with no "
            "other "
            "load "
            "to explain it (" +
                load + "; a CPU quota, or the balancer's delay): " + evidence,
            summary);
    return rule.confirmed(
        "up to the CPU count the workers ran at once (least share at least {alone_threshold}); above it at most "
        "{most_at_once} ran at once and they took turns, the capacity used at least {busy_threshold}: " +
            evidence,
        summary);
}

Decision decide_p2(const std::vector<StepResult>& steps, const KernelSliceFacts& facts,
                   const Interference& interference) {
    Rule rule(kP2Rule);
    const StepResult* over = most_oversubscribed(steps);
    if (!over)
        for (const auto& s : steps)
            if (s.k > s.cpus && (!over || s.k > over->k)) over = &s;
    if (!over)
        return rule.not_measured("no step had more workers than CPUs, so no worker had to take turns",
                                 "no over-subscribed step");
    const auto& s = *over;
    int with_turns = 0, preempted = 0;
    std::int64_t involuntary = 0;
    for (const auto& w : s.workers) {
        if (w.gaps >= 2) ++with_turns;
        if (w.gaps >= 1 || w.involuntary > 0) ++preempted;
        if (w.involuntary > 0) involuntary += w.involuntary;
    }
    rule.use(count_fact("workers", s.k, "workers in the most over-subscribed step"));
    rule.use(text_fact("kind", s.threads ? "threads" : "processes", "what the workers were"));
    rule.use(count_fact("cpus", s.cpus, "CPUs they could use"));
    rule.use(
        count_fact("preempted", preempted, "workers taken off a CPU at least once (a gap, or an involuntary switch)"));
    rule.use(count_fact("involuntary_switches", involuntary, "their involuntary context switches (/proc/.../status)"));
    if (preempted == 0)
        return rule.refuted(
            "{workers} {kind} on {cpus:count CPU} ran one after another: {preempted} of them taken off a CPU, "
            "{involuntary_switches} involuntary switches",
            "{workers} {kind} on {cpus:count CPU}, {preempted} preempted");
    std::vector<double> sorted = s.slices_ns;
    std::sort(sorted.begin(), sorted.end());
    const double median_slice = sorted.empty() ? 0 : percentile_sorted(sorted, 50);
    rule.use(count_fact("with_turns", with_turns, "workers that got several slices in turn"));
    rule.use(number_fact("slice_median", median_slice, "ns", "the median slice between two gaps of a worker's clock"));
    rule.use(number_fact("slice_p90", sorted.empty() ? 0 : percentile_sorted(sorted, 90), "ns", "its 90th percentile"));
    rule.use(
        number_fact("involuntary_per_s", s.involuntary_per_s, "/s", "involuntary switches per second of the step"));
    rule.use(share_fact("least_share", s.min_share, "the least share of a CPU a worker got"));
    rule.use(share_fact("most_share", s.max_share, "the most"));
    rule.use(number_fact("jain", s.jain, "ratio", "Jain's fairness index of the shares (1: equal)"));
    const std::string evidence =
        "{workers} {kind} on {cpus:count CPU}: {with_turns of workers} got several slices in turn, slice median "
        "{slice_median} (p90 {slice_p90}), {involuntary_switches} involuntary switches ({involuntary_per_s:plain} per "
        "second), "
        "shares {least_share}-{most_share}, Jain {jain}";
    const std::string summary =
        "{workers} {kind} on {cpus:count CPU}: slice median {slice_median}, {involuntary_per_s:plain} involuntary "
        "switches per second, Jain {jain}";
    // Preempted is not yet in turns: every worker beyond the CPU count had to wait, so each of those
    // should have run in several slices. Fewer is a kernel that takes workers off a CPU (an
    // interrupt, a migration) without handing out turns.
    const int must_wait = std::max(0, s.k - s.cpus);
    if (with_turns < must_wait) {
        rule.use(count_fact("must_wait", must_wait, "workers beyond the CPU count, which had to wait for a turn"));
        return rule.nuanced(
            evidence + "; taken off a CPU, but fewer got several slices in turn than the {must_wait} that had to wait",
            summary);
    }
    // Across CPUs the shares are only as even as the load balancer makes them: each CPU has its
    // own run queue, and a worker can have one to itself for tens of milliseconds. That is named,
    // not held against the claim, which is about slices and the kernel choosing who runs.
    std::string fairness;
    if (s.jain < kUnfair) {
        rule.use(number_fact("unfair_threshold", kUnfair, "ratio", "below this Jain index the imbalance is named"));
        rule.use(
            number_fact("longest_run", double(s.longest_run_ns), "ns", "the longest run of a worker without a break"));
        fairness =
            "; shares uneven across CPUs (Jain below {unfair_threshold}): per-CPU run queues until the balancer moved "
            "a worker, "
            "longest run without a break {longest_run}";
        if (s.first_move_ns) {
            rule.use(number_fact("first_move", double(*s.first_move_ns), "ns",
                                 "the balancer's first move of a worker, after the go"));
            fairness += ", first move to another CPU after {first_move}";
        }
        if (interference.exceeds(kInterferenceMargin))
            fairness += "; " + use_interference(rule, interference, kInterferenceMargin);
    }
    std::string tick;
    if (facts.kernel_tick_ns) {
        rule.use(number_fact("tick", *facts.kernel_tick_ns, "ns",
                             "the timer tick: the kernel's jiffies over the run (CONFIG_HZ)"));
        tick = "timer tick {tick} (the kernel's jiffies)";
    } else if (facts.tick_ns) {
        // Every local timer interrupt counts here, the tick's and any other timer's: the tick is
        // at least this long, not exactly it.
        rule.use(number_fact("timer_interrupt_interval", *facts.tick_ns, "ns",
                             "1 / local timer interrupts per busy CPU-second (the tick's and any other timer's)"));
        tick = "one local timer interrupt per {timer_interrupt_interval} on a busy CPU (the tick is at least that)";
    }
    if (facts.base_slice_ns && median_slice > 0) {
        rule.use(number_fact("base_slice", *facts.base_slice_ns, "ns", "the configured base slice (EEVDF, debugfs)"));
        const double ratio = median_slice / *facts.base_slice_ns;
        rule.use(
            number_fact("slice_to_base", ratio, "x", "the observed median slice against the configured base slice"));
        rule.use(number_fact("slice_ratio_low", kSliceRatioLow, "x", "below this the slice is not what is configured"));
        rule.use(number_fact("slice_ratio_high", kSliceRatioHigh, "x", "above this, the same"));
        if (ratio < kSliceRatioLow || ratio > kSliceRatioHigh)
            return rule.nuanced(evidence + fairness +
                                    "; the observed slice is {slice_to_base} the configured base slice {base_slice} "
                                    "(outside {slice_ratio_low}-{slice_ratio_high})" +
                                    (tick.empty() ? "" : ": slices end at timer ticks (" + tick + ")"),
                                summary);
        return rule.confirmed(evidence + fairness + "; configured base slice {base_slice}", summary);
    }
    rule.use(text_fact("base_slice_unknown",
                       facts.base_slice_unknown.empty() ? "no slices to compare" : facts.base_slice_unknown,
                       "why the configured base slice is not compared"));
    return rule.confirmed(evidence + fairness + "; the configured base slice is not compared ({base_slice_unknown})" +
                              (tick.empty() ? "" : ", " + tick),
                          summary);
}

namespace {
bool moved(const WorkerResult& w) { return w.first_move_ns || w.migrations > 0 || w.cpus.size() > 1; }

}  // namespace

int workers_moved(const StepResult& s) {
    return static_cast<int>(
        std::count_if(s.workers.begin(), s.workers.end(), [](const WorkerResult& w) { return moved(w); }));
}

Decision decide_t1(const std::vector<StepResult>& steps, bool pinned, const Interference& interference) {
    Rule rule(kT1Rule);
    const StepResult* t = nullptr;
    for (const auto& s : steps)
        if (s.threads) t = &s;
    if (!t) return rule.not_measured("no step ran threads", "no thread step");
    std::set<int> tids, pids;
    int with_own_stats = 0;
    std::int64_t min_run = INT64_MAX, max_run = 0;
    for (const auto& w : t->workers) {
        tids.insert(w.tid);
        pids.insert(w.pid);
        if (w.run_kernel_ns > 0) {
            ++with_own_stats;
            min_run = std::min(min_run, w.run_kernel_ns);
            max_run = std::max(max_run, w.run_kernel_ns);
        }
    }
    const int moved = workers_moved(*t);
    rule.use(count_fact("threads", t->k, "threads in the step"));
    rule.use(count_fact("processes", long(pids.size()), "processes they belonged to"));
    rule.use(count_fact("distinct_tids", long(tids.size()), "distinct kernel thread ids among them"));
    rule.use(
        count_fact("own_schedstat", with_own_stats, "threads with their own run time in /proc/PID/task/TID/schedstat"));
    rule.use(number_fact("run_least", double(min_run == INT64_MAX ? 0 : min_run), "ns",
                         "the least run time in a thread's schedstat"));
    rule.use(number_fact("run_most", double(max_run), "ns", "the most"));
    rule.use(count_fact("moved", moved, "threads that ran on more than one CPU"));
    std::string evidence =
        "{threads:count thread} of {processes} process: {distinct_tids} distinct tids, {own_schedstat} with their own "
        "schedstat (run {run_least}-{run_most}), {moved} moved to another CPU";
    if (t->started_on_one_cpu && !t->workers.empty()) {
        rule.use(count_fact("start_cpu", t->workers.front().first_cpu, "the CPU every thread started on"));
        evidence += " (started together on CPU {start_cpu})";
    }
    if (t->first_move_ns) {
        rule.use(
            number_fact("first_move", double(*t->first_move_ns), "ns", "the first move of a thread, after the go"));
        evidence += ", the first after {first_move}";
    }
    const std::string summary =
        "{threads:count thread} with {distinct_tids} tids and {own_schedstat} own schedstat, {moved} moved";
    if (static_cast<int>(tids.size()) < t->k || with_own_stats < t->k)
        return rule.refuted("threads were not separate kernel tasks: " + evidence, summary);
    rule.use(count_fact("cpus", t->cpus, "CPUs the threads could use"));
    if (pinned) {
        rule.use(flag_fact("pinned", true, "the threads were pinned to one CPU (--pin)"));
        return rule.nuanced(evidence + "; pinned to one CPU, so no move could happen", summary);
    }
    if (t->cpus < 2) return rule.nuanced(evidence + "; {cpus} CPU only, so no move could happen", summary);
    if (moved == 0 && !interference.clear_of(kInterferenceMargin))
        return rule.not_measured(evidence + "; {moved} moved, but no CPU was surely free to move to: " +
                                     use_interference(rule, interference, kInterferenceMargin),
                                 summary + "; " + interference_summary(rule, interference, kInterferenceMargin));
    if (moved == 0)
        return rule.nuanced(
            evidence + "; the scheduler moved {moved} of them to a free CPU, so its own moves were not seen", summary);
    return rule.confirmed(evidence + ", by the scheduler's choice", summary);
}

}  // namespace proclab::time_slicing
