#include "time_slicing/verdicts.hpp"

#include <algorithm>
#include <climits>
#include <set>

#include <fmt/format.h>

namespace proclab::time_slicing {

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

ClaimVerdict decide_p4(const std::vector<StepResult>& steps, const Interference& interference) {
    std::vector<std::string> parts;
    bool any_over = false, all_busy = true;
    const StepResult* overcommitted = nullptr;
    for (const auto* s : process_steps(steps)) {
        const bool over = s->k > s->cpus;
        any_over = any_over || over;
        if (s->wall_ns > 0 && double(s->overcommitted_ns) > kOvercommitted * double(s->wall_ns)) overcommitted = s;
        const bool busy = s->k <= s->cpus ? s->min_share >= kRanAlone : s->busy_cpus_fraction >= kBusyCpus;
        all_busy = all_busy && busy;
        if (s->k <= s->cpus)
            parts.push_back(fmt::format("K={}: every worker got {:.2f}+ of a CPU, at most {} at once", s->k, s->min_share, s->max_running));
        else
            parts.push_back(fmt::format("K={}: at most {} at once, CPUs busy {:.0f}%, wall {:.2f}x the work", s->k, s->max_running,
                                        100 * s->busy_cpus_fraction, double(s->wall_ns) / double(s->work_ns)));
    }
    const int cpus = steps.empty() ? 0 : steps.front().cpus;
    const std::string evidence = fmt::format("{} on {} CPU{}", fmt::join(parts, "; "), cpus, cpus == 1 ? "" : "s");
    if (!any_over) return {"P4", Verdict::not_measured, "no step had more runnable workers than CPUs: " + evidence};
    if (overcommitted)
        return {"P4", Verdict::refuted,
                fmt::format("at K={} more workers ran at once than there are CPUs ({} at once, {} in all): {}", overcommitted->k,
                            overcommitted->max_running, ms(double(overcommitted->overcommitted_ns)), evidence)};
    if (!all_busy && interference.exceeds(kInterferenceMargin))
        return {"P4", Verdict::not_measured,
                fmt::format("the CPUs were not ours to judge shares on: {} (margin {:.0f}%): {}", interference.describe(),
                            100 * kInterferenceMargin, evidence)};
    if (!all_busy)
        return {"P4", Verdict::nuanced,
                fmt::format("never more than {} ran at once, but the CPUs idled while work waited, with no other load to explain it "
                            "(a CPU quota, or the balancer's delay): {}",
                            cpus, evidence)};
    return {"P4", Verdict::confirmed,
            fmt::format("up to the CPU count all ran at once; above it never more than {} ran at once and they took turns, the "
                        "CPUs kept busy: {}",
                        cpus, evidence)};
}

ClaimVerdict decide_p2(const std::vector<StepResult>& steps, const KernelSliceFacts& facts, const Interference& interference) {
    const StepResult* over = most_oversubscribed(steps);
    if (!over)
        for (const auto& s : steps)
            if (s.k > s.cpus && (!over || s.k > over->k)) over = &s;
    if (!over) return {"P2", Verdict::not_measured, "no step had more workers than CPUs, so nobody had to take turns"};
    const auto& s = *over;
    int with_turns = 0, preempted = 0;
    std::int64_t involuntary = 0;
    for (const auto& w : s.workers) {
        if (w.gaps >= 2) ++with_turns;
        if (w.gaps >= 1 || w.involuntary > 0) ++preempted;
        if (w.involuntary > 0) involuntary += w.involuntary;
    }
    const std::string who = s.threads ? "threads" : "processes";
    if (preempted == 0)
        return {"P2", Verdict::refuted,
                fmt::format("{} {} on {} CPUs ran one after another without being preempted ({} involuntary switches)", s.k,
                            who, s.cpus, involuntary)};
    std::vector<double> sorted = s.slices_ns;
    std::sort(sorted.begin(), sorted.end());
    const double median_slice = sorted.empty() ? 0 : percentile_sorted(sorted, 50);
    const std::string evidence = fmt::format(
        "{} {} on {} CPU{}: {} of {} got several slices in turn, slice median {} (p90 {}), {} involuntary switches "
        "({:.0f}/s), shares {:.2f}-{:.2f}, Jain {:.3f}",
        s.k, who, s.cpus, s.cpus == 1 ? "" : "s", with_turns, s.k, ms(median_slice), sorted.empty() ? "-" : ms(percentile_sorted(sorted, 90)),
        involuntary, s.involuntary_per_s, s.min_share, s.max_share, s.jain);
    // Across CPUs the shares are only as even as the load balancer makes them: each CPU has its
    // own run queue, and a worker can have one to itself for tens of milliseconds. That is named,
    // not held against the claim, which is about slices and the kernel choosing who runs.
    const std::string fairness =
        s.jain < kUnfair ? fmt::format("; shares uneven across CPUs (Jain below {:.2f}): per-CPU run queues until the balancer "
                                       "moved a worker, {}{}",
                                       kUnfair, balance_note(s),
                                       interference.exceeds(kInterferenceMargin) ? "; " + interference.describe() : "")
                         : std::string();
    if (facts.base_slice_ns && median_slice > 0) {
        const double ratio = median_slice / *facts.base_slice_ns;
        if (ratio < kSliceRatioLow || ratio > kSliceRatioHigh)
            return {"P2", Verdict::nuanced,
                    fmt::format("{}{}; the observed slice is {:.1f}x the configured base slice {}{}", evidence, fairness, ratio,
                                ms(*facts.base_slice_ns),
                                facts.tick_ns ? fmt::format(": slices end at timer ticks ({} as observed)", ms(*facts.tick_ns)) : "")};
        return {"P2", Verdict::confirmed, fmt::format("{}{}; configured base slice {}", evidence, fairness, ms(*facts.base_slice_ns))};
    }
    return {"P2", Verdict::confirmed,
            fmt::format("{}{}; the configured base slice is unknown ({}){}", evidence, fairness, facts.base_slice_unknown,
                        facts.tick_ns ? fmt::format(", timer tick {} as observed", ms(*facts.tick_ns)) : "")};
}

namespace {
bool moved(const WorkerResult& w) { return w.first_move_ns || w.migrations > 0 || w.cpus.size() > 1; }

}  // namespace

int workers_moved(const StepResult& s) {
    return static_cast<int>(std::count_if(s.workers.begin(), s.workers.end(), [](const WorkerResult& w) { return moved(w); }));
}

ClaimVerdict decide_t1(const std::vector<StepResult>& steps, bool pinned, const Interference& interference) {
    const StepResult* t = nullptr;
    for (const auto& s : steps)
        if (s.threads) t = &s;
    if (!t) return {"T1", Verdict::not_measured, "no step ran threads"};
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
    const int k = t->k;
    const int moved = workers_moved(*t);
    const std::string start = t->started_on_one_cpu ? fmt::format(" (all started on CPU {})", t->workers.empty() ? -1 : t->workers.front().first_cpu) : "";
    const std::string evidence = fmt::format(
        "{} threads of {} process{}: {} distinct tids, {} with their own schedstat (run {}-{}), {} moved to another CPU{}{}", k,
        pids.size(), pids.size() == 1 ? "" : "es", tids.size(), with_own_stats, ms(double(min_run == INT64_MAX ? 0 : min_run)),
        ms(double(max_run)), moved, start, t->first_move_ns ? ", the first after " + ms(double(*t->first_move_ns)) : "");
    if (static_cast<int>(tids.size()) < k || with_own_stats < k)
        return {"T1", Verdict::refuted, "threads were not separate kernel tasks: " + evidence};
    if (t->cpus < 2 || pinned)
        return {"T1", Verdict::nuanced,
                evidence + (pinned ? "; pinned to one CPU, so no migration could happen" : "; one CPU only, so no migration could happen")};
    if (moved == 0 && interference.exceeds(kInterferenceMargin))
        return {"T1", Verdict::not_measured,
                fmt::format("{}; none moved, but no CPU was free to move to: {}", evidence, interference.describe())};
    if (moved == 0)
        return {"T1", Verdict::nuanced, evidence + "; the scheduler moved none of them to a free CPU, so its own moves were not seen"};
    return {"T1", Verdict::confirmed, evidence + ", by the scheduler's choice"};
}

}  // namespace proclab::time_slicing
