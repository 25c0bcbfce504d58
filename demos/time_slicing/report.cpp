// time_slicing's report (see report.hpp): every table and figure from the evidence of the sweep.
#include "time_slicing/report.hpp"

#include "time_slicing/timeline.hpp"

#include "proclab/environment.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace proclab::time_slicing {

namespace {

// The decisive figures of every trial.
void add_trials_table(Result& result, const Sweep& sweep) {
    const auto& trials = sweep.trials;
    auto tt = trials_table(
        trials, fmt::format("Trials: {} independent runs of the sweep, each decided on its own", trials.count()),
        {{"K<=CPUs: least share", "ratio"},
         {"K>CPUs: capacity used", "fraction"},
         {"K>CPUs: kernel / capacity", "ratio"},
         {"most at once", "count"},
         {"Jain (largest K)", "ratio"},
         {"balancer's first move", "ns"},
         {"threads moved", "count"},
         {"first thread move", "ns"}},
        [&](const std::vector<StepResult>& tr) {
            double min_alone = 1, min_busy = 1;
            std::optional<double> kernel_over_capacity;  // the largest, over the steps K > CPUs
            int most = 0;
            std::optional<Nanos> first_move;
            for (const auto* s : process_steps(tr)) {
                if (s->k <= s->cpus) min_alone = std::min(min_alone, s->min_share);
                else min_busy = std::min(min_busy, s->busy_cpus_fraction);
                if (s->k > s->cpus && s->kernel_run_ns >= 0 && s->wall_ns > 0)
                    kernel_over_capacity = std::max(kernel_over_capacity.value_or(0),
                                                    double(s->kernel_run_ns) / (double(s->cpus) * double(s->wall_ns)));
                most = std::max(most, s->max_running);
                if (s->k > s->cpus && s->first_move_ns && (!first_move || *s->first_move_ns < *first_move))
                    first_move = s->first_move_ns;
            }
            const StepResult* over = most_oversubscribed(tr);
            const StepResult& threads = tr.back();
            return std::vector<Cell>{min_alone,
                                     min_busy,
                                     kernel_over_capacity ? Cell{*kernel_over_capacity} : Cell{},
                                     double(most),
                                     over ? Cell{over->jain} : Cell{},
                                     first_move ? Cell{double(*first_move)} : Cell{},
                                     double(workers_moved(threads)),
                                     threads.first_move_ns ? Cell{double(*threads.first_move_ns)} : Cell{}};
        });
    tt.note = fmt::format(
        "Interference = other tasks' CPU time and steal on the allowed CPUs during the trial, from /proc/stat against "
        "our own "
        "getrusage (margin {:.0f}%). 'Capacity used' = the workers' CPU time until the first of them finished / the "
        "CPUs' "
        "capacity then (P4 needs {:.0f}%+). 'Kernel / capacity': the workers' CPU time as the kernel counted it "
        "(schedstat) "
        "over what the CPUs could give in the step's wall time; beyond 1 (by 5% and a tick per worker) it would refute "
        "P4. "
        "'Most at once' from the run intervals is a picture as fine as the gap threshold: a preemption shorter than "
        "that is "
        "not seen, so it never refutes. 'Balancer's first move': the earliest a process moved to another CPU in an "
        "over-subscribed step; until then each "
        "CPU's run queue kept its own workers (a worker alone on one CPU while others share the other). The T1 threads "
        "all "
        "start on CPU {} and are then allowed every CPU. A verdict needs a majority of trials, 'refuted' all of them.",
        100 * kInterferenceMargin, 100 * kBusyCpus, sweep.cpus.front());
    result.tables.push_back(std::move(tt));
}

// Every step of the trial shown, and its metrics; then P4's figures across trials.
void add_steps_table(Result& result, const Sweep& sweep) {
    const auto& trials = sweep.trials;
    const std::vector<StepResult>& steps = trials.shown_evidence();
    const int n = static_cast<int>(sweep.cpus.size());
    auto& t = result.add_table(
        fmt::format("Steps of trial {} (shown): K workers each needing the same CPU time", trials.shown + 1),
        {{"K", "count"},
         "kind",
         {"CPUs", "count"},
         {"work", "ns"},
         {"wall", "ns"},
         {"expected wall", "ns"},
         {"least share", "ratio"},
         {"most share", "ratio"},
         {"mean share of own lifetime", "ratio"},
         {"expected", "ratio"},
         {"CPUs busy over the step", "CPUs"},
         {"Jain", "ratio"},
         {"slice median", "ns"},
         {"p90", "ns"},
         {"max", "ns"},
         {"schedstat slice", "ns"},
         {"invol./s", "/s"},
         {"migrations", "count"}});
    for (const auto& s : steps) {
        std::vector<double> sorted = s.slices_ns;
        std::sort(sorted.begin(), sorted.end());
        std::vector<double> ks = s.kernel_slice_ns;
        std::sort(ks.begin(), ks.end());
        double run_total = 0;
        for (const auto& w : s.workers) run_total += double(w.run_ns);
        auto pct = [&](const std::vector<double>& v, double p) {
            return v.empty() ? Cell{} : Cell{percentile_sorted(v, p)};
        };
        t.rows.push_back({double(s.k), s.threads ? "threads" : "processes", double(s.cpus), double(s.work_ns),
                          double(s.wall_ns), s.expected_wall_ns, s.min_share, s.max_share, s.mean_share,
                          s.expected_share, s.wall_ns > 0 ? Cell{run_total / double(s.wall_ns)} : Cell{}, s.jain,
                          pct(sorted, 50), pct(sorted, 90), sorted.empty() ? Cell{} : Cell{sorted.back()}, pct(ks, 50),
                          s.involuntary_per_s, double(s.migrations)});
        const std::string tag = fmt::format("k{}_{}", s.k, s.threads ? "threads" : "processes");
        result.add_metric("mean_share_" + tag, s.mean_share, "ratio",
                          fmt::format("K={} {}: mean share, each worker's run time / its own lifetime", s.k,
                                      s.threads ? "threads" : "processes"));
        result.add_metric(
            "wall_" + tag, double(s.wall_ns), "ns",
            fmt::format("wall time for the fixed work at K={} {}", s.k, s.threads ? "threads" : "processes"));
        if (!s.slices_ns.empty())
            result
                .add_metric(
                    "slice_" + tag, summarize(s.slices_ns), "ns",
                    fmt::format("observed slices at K={} {} (clock gaps)", s.k, s.threads ? "threads" : "processes"))
                .headline = s.k == 4 * n && !s.threads;
    }
    t.note = fmt::format(
        "Share = a worker's run time (from its clock gaps) / its own lifetime (the common start to its own finish), so "
        "the "
        "shares of a step do not add up to the CPUs; 'CPUs busy over the step' = all run time / the step's wall, at "
        "most the "
        "CPUs. Expected share = min(1, CPUs/K). "
        "Slices come from the clock gaps, the first and last of each worker excluded (partial); 'schedstat slice' is "
        "the "
        "kernel's run time / number of times switched in, median over workers. Wall is the last worker's finish.{}",
        sweep.shortened.empty() ? ""
                                : fmt::format(" Shortened to keep a step under {:.0f} s: {}.", kMaxStepWallS,
                                              fmt::join(sweep.shortened, ", ")));

    // Across trials: the figures P4 stands on, with their spread.
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& s = steps[i];
        if (s.threads && !sweep.threads_only) continue;
        std::vector<double> busy, shares;
        for (const auto& tr : trials.evidence) {
            busy.push_back(tr[i].k <= tr[i].cpus ? tr[i].min_share : tr[i].busy_cpus_fraction);
            shares.push_back(tr[i].mean_share);
        }
        const std::string tag = fmt::format("k{}_processes", s.k);
        // Two quantities, two names: a least share while K <= CPUs, the capacity used above.
        result
            .add_metric(
                (s.k <= s.cpus ? "least_share_" : "capacity_used_") + tag, summarize(busy), "ratio",
                s.k <= s.cpus
                    ? fmt::format("K={}: the least share of a CPU any worker got, over trials", s.k)
                    : fmt::format("K={}: CPU time delivered / capacity until the first finished, over trials", s.k))
            .headline = true;
        result.add_metric("trial_mean_share_" + tag, summarize(shares), "ratio",
                          fmt::format("K={}: mean share, over trials", s.k));
    }
    const Interference all_interference = trials.total_interference();
    result.add_metric("interference", all_interference.fraction(), "ratio",
                      "other tasks' CPU time and steal, as a share of the allowed CPUs' time, over all trials");
    result.add_metric("steal", all_interference.steal_fraction(), "ratio",
                      "steal time, as a share of the allowed CPUs' time");
    result.notes.push_back("Interference over all trials: " + all_interference.describe() + ".");
}

// The step the timeline shows: the first over-subscribed process step, else the threads step.
const StepResult& timeline_step(const std::vector<StepResult>& steps) {
    for (const auto& s : steps)
        if (s.k > s.cpus) return s;
    return steps.back();
}

// Per-worker view of the timeline step, the clock's and the kernel's side by side.
void add_workers_table(Result& result, const StepResult& shown) {
    auto& wt =
        result.add_table(fmt::format("Workers of the timeline step (K={} {}): the clock's view beside the kernel's",
                                     shown.k, shown.threads ? "threads" : "processes"),
                         {"worker",
                          {shown.threads ? "tid" : "pid", "count"},
                          {"share", "ratio"},
                          {"kernel share", "ratio"},
                          {"slices (gaps)", "count"},
                          {"schedstat slices", "count"},
                          {"run (gaps)", "ns"},
                          {"run (schedstat)", "ns"},
                          {"wait (schedstat)", "ns"},
                          {"invol.", "count"},
                          {"vol.", "count"},
                          {"migrations", "count"},
                          "CPUs"});
    const std::size_t rows = std::min<std::size_t>(shown.workers.size(), 32);
    for (std::size_t i = 0; i < rows; ++i) {
        const auto& w = shown.workers[i];
        std::vector<int> cpu_list(w.cpus.begin(), w.cpus.end());
        auto known = [](std::int64_t v) { return v >= 0 ? Cell{double(v)} : Cell{}; };
        wt.rows.push_back({std::string(1, worker_letter(i)), double(w.tid), w.share, w.kernel_share,
                           double(w.intervals.size() + w.dropped), known(w.slices_kernel), double(w.run_ns),
                           known(w.run_kernel_ns), known(w.wait_kernel_ns), known(w.involuntary), known(w.voluntary),
                           known(w.migrations), format_cpu_list(cpu_list)});
    }
    wt.note =
        "The two views differ where they should: the kernel counts a switch-in even when the time off the CPU "
        "was shorter than the gap threshold, and the clock sees gaps the guest kernel did not cause (a long "
        "interrupt; in a virtual machine, the host stopping the virtual CPU). Run time from schedstat is updated at "
        "ticks and switches, so it can trail by up to a tick.";
}

// The configured and the observed slice facts, and the loop's calibration.
void add_slice_settings(Result& result, const DemoContext& ctx, const Sweep& sweep) {
    const Calibration& cal = sweep.calibration;
    const KernelSliceFacts facts = slice_facts(ctx, sweep.trials.shown_evidence());
    auto& kt =
        result.add_table("The kernel's slice settings and the clock", {"fact", "value"});  // mixed units: rendered here
    auto fact = [&](const char* key) {
        const MachineFact* f = ctx.env.find(key);
        return f ? f->shown() : std::string("?");
    };
    kt.rows.push_back({"configured base slice (EEVDF)", facts.base_slice_ns ? ms(*facts.base_slice_ns) : "unknown"});
    kt.rows.push_back({"CONFIG_HZ", fact("config_hz")});
    kt.rows.push_back({"the tick, from the kernel's jiffies over the run",
                       facts.kernel_tick_ns
                           ? fmt::format("{} ({:.0f} Hz)", ms(*facts.kernel_tick_ns), 1e9 / *facts.kernel_tick_ns)
                           : "unknown: " + run_jiffies().unknown_reason()});
    kt.rows.push_back(
        {"local timer interrupts per busy CPU-second (the tick's and any other timer's)",
         facts.tick_ns ? fmt::format("{:.0f} (one every {})", 1e9 / *facts.tick_ns, ms(*facts.tick_ns)) : "unknown"});
    kt.rows.push_back({"autogroup", fact("sched_autogroup")});
    kt.rows.push_back(
        {"loop step undisturbed (median / p99)", fmt::format("{} / {}", format_value(cal.undisturbed_step.median, "ns"),
                                                             format_value(cal.undisturbed_step.p99, "ns"))});
    kt.rows.push_back({"gap threshold", format_value(double(cal.threshold_ns), "ns")});
    kt.rows.push_back({"probe effect (clock read / loop step)", fmt::format("{:.2f}%", cal.probe_effect * 100)});
    kt.note =
        "The gap threshold is 8x the undisturbed loop's 99.9th percentile step, kept within 20-500 µs: an interrupt "
        "is not a switch, and a slice is milliseconds long.";
    result.add_metric("probe_effect", cal.probe_effect, "ratio", "clock read cost as a share of one loop step");
    result.add_metric("gap_threshold", double(cal.threshold_ns), "ns",
                      "a clock step above this counts as time off the CPU");
    if (facts.tick_ns)
        result.add_metric("observed_tick", *facts.tick_ns, "ns",
                          "1 / local timer interrupts per busy CPU-second (ticks and other timers)");
    if (facts.kernel_tick_ns)
        result.add_metric("kernel_tick", *facts.kernel_tick_ns, "ns",
                          "the timer tick from the kernel's jiffies over the run");
}

Json raw_series(const std::vector<StepResult>& steps, const StepResult& timeline_step) {
    Json raw;
    Json jsteps = Json::array();
    for (const auto& s : steps) {
        Json workers = Json::array();
        for (const auto& w : s.workers)
            workers.push_back(Json{{"tid", w.tid},
                                   {"pid", w.pid},
                                   {"share", w.share},
                                   {"kernel_share", w.kernel_share},
                                   {"run_ms", double(w.run_ns) / 1e6},
                                   {"wall_ms", double(w.wall_ns) / 1e6},
                                   {"slices", w.intervals.size()},
                                   {"kernel_slices", w.slices_kernel},
                                   {"involuntary", w.involuntary},
                                   {"voluntary", w.voluntary},
                                   {"migrations", w.migrations}});
        jsteps.push_back(Json{{"k", s.k},
                              {"threads", s.threads},
                              {"cpus", s.cpus},
                              {"work_ms", double(s.work_ns) / 1e6},
                              {"wall_ms", double(s.wall_ns) / 1e6},
                              {"mean_share", s.mean_share},
                              {"expected_share", s.expected_share},
                              {"jain", s.jain},
                              {"workers", std::move(workers)}});
    }
    raw["steps"] = std::move(jsteps);
    Json lanes = Json::array();
    for (const auto& w : timeline_step.workers) {
        Json ivs = Json::array();
        for (const auto& iv : w.intervals)
            ivs.push_back(Json::array(
                {double(iv.start - timeline_step.go_at) / 1e6, double(iv.end - timeline_step.go_at) / 1e6, iv.cpu}));
        lanes.push_back(Json{{"tid", w.tid}, {"intervals_ms_cpu", std::move(ivs)}});
    }
    raw["timeline"] = Json{{"k", timeline_step.k}, {"threads", timeline_step.threads}, {"workers", std::move(lanes)}};
    return raw;
}

// Who ran on which CPU, 60 ms from a quarter into the step shown (the start is still settling).
plot::Plot timeline_plot(const StepResult& step) {
    double end_ms = 0;
    std::set<int> cpus;
    for (const auto& w : step.workers)
        for (const auto& iv : w.intervals) {
            end_ms = std::max(end_ms, double(iv.end - step.go_at) / 1e6);
            cpus.insert(iv.cpu);
        }
    const double from = end_ms * 0.25, to = std::min(end_ms, from + 60);
    plot::Panel panel{.title = fmt::format("Who ran on which CPU: {} CPU-bound {} (time_slicing)", step.k,
                                           step.threads ? "threads" : "processes"),
                      .x = {.label = "time since the common start (ms)", .min = from, .max = to},
                      .y = {.label = "CPU"},
                      .legend = "outside"};
    plot::set_ticks(panel.y, cpus, [](int c) { return fmt::format("CPU {}", c); });
    if (!cpus.empty()) {
        panel.y.min = *cpus.begin() - 0.6;
        panel.y.max = *cpus.rbegin() + 0.6;
    }
    constexpr int kColours = 8;  // the palette's; beyond them a hatch tells the workers apart
    const char* hatches[] = {"", "//", "..", "xx"};
    for (std::size_t i = 0; i < step.workers.size(); ++i) {
        const auto& w = step.workers[i];
        plot::Series lane{.mark = plot::Mark::intervals,
                          .label = fmt::format("worker {}", w.tid),
                          .colour = int(i),
                          .hatch = hatches[(i / kColours) % 4]};
        for (const auto& iv : w.intervals) {
            const double a = double(iv.start - step.go_at) / 1e6, b = double(iv.end - step.go_at) / 1e6;
            if (b > from && a < to) lane.intervals.push_back({a, b, double(iv.cpu)});
        }
        panel.series.push_back(std::move(lane));
    }
    return {.file = "timeline.png",
            .caption = fmt::format(
                "Who ran on which CPU: {} of time_slicing, K={} on {} (P2, P4).",
                step.k > step.cpus ? "the first over-subscribed step" : "the largest step (none was over-subscribed)",
                step.k, counted(step.cpus, "CPU")),
            .width = 10,
            .height = 1.2 + 0.5 * double(std::max<std::size_t>(1, cpus.size())),
            .panels = {std::move(panel)}};
}

// Each process's share of a CPU against K, beside min(1, CPUs/K).
std::optional<plot::Plot> share_plot(const std::vector<StepResult>& steps) {
    std::vector<const StepResult*> processes;
    for (const auto& s : steps)
        if (!s.threads) processes.push_back(&s);
    if (processes.empty()) return std::nullopt;
    plot::Panel panel{
        .title = fmt::format("CPU share against the number of workers on {} CPUs (P4)", processes.front()->cpus),
        .x = {.label = "CPU-bound processes K", .scale = plot::Scale::log2},
        .y = {.label = "share per process (run time / its lifetime)", .min = 0, .max = 1.1},
        .legend_size = 8};
    plot::Series each{.mark = plot::Mark::scatter, .colour = 0, .width = 14, .alpha = 0.4};
    plot::Series mean{.label = "measured mean share (dots: each worker)", .colour = 0, .marker = "o"};
    plot::Series expected{.label = "min(1, CPUs / K)", .colour = 3, .line = "--"};
    std::vector<int> ks;
    for (const StepResult* s : processes) {
        for (const auto& w : s->workers) {
            each.x.push_back(s->k);
            each.y.push_back(w.share);
        }
        mean.x.push_back(s->k);
        mean.y.push_back(s->mean_share);
        expected.x.push_back(s->k);
        expected.y.push_back(s->expected_share);
        ks.push_back(s->k);
    }
    plot::set_ticks(panel.x, ks, [](int k) { return std::to_string(k); });
    panel.series = {std::move(each), std::move(mean), std::move(expected)};
    return plot::Plot{
        .file = "cpu_share.png",
        .caption = "CPU share per process against the number of CPU-bound processes, with min(1, CPUs/K) (P4).",
        .panels = {std::move(panel)}};
}

}  // namespace

const JiffiesClock& run_jiffies() {
    static const JiffiesClock clock;
    return clock;
}

KernelSliceFacts slice_facts(const DemoContext& ctx, const std::vector<StepResult>& steps) {
    KernelSliceFacts facts;
    facts.kernel_tick_ns = run_jiffies().tick_ns();
    if (const MachineFact* f = ctx.env.find("sched_base_slice_ns"); f && f->value)
        facts.base_slice_ns = std::stod(*f->value);
    else if (f) facts.base_slice_unknown = f->unknown_reason;
    for (const auto& s : steps)
        if (s.ticks_per_busy_cpu_s && *s.ticks_per_busy_cpu_s > 0 && !facts.tick_ns)
            facts.tick_ns = 1e9 / *s.ticks_per_busy_cpu_s;
    return facts;
}

void present(Result& result, const DemoContext& ctx, const Sweep& sweep) {
    const std::vector<StepResult>& steps = sweep.trials.shown_evidence();
    const StepResult& shown = timeline_step(steps);
    add_trials_table(result, sweep);
    add_steps_table(result, sweep);
    result.figures.push_back(timeline(shown, sweep.cpus));
    add_workers_table(result, shown);
    add_slice_settings(result, ctx, sweep);
    result.config.repeat = 1;
    result.config.trials = sweep.trials.count();
    result.raw = raw_series(steps, shown);
    if (!shown.workers.empty()) result.plots.push_back(timeline_plot(shown));
    if (auto share = share_plot(steps)) result.plots.push_back(std::move(*share));
}

}  // namespace proclab::time_slicing
