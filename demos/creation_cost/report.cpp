// creation_cost's report (see report.hpp): every table and figure from what was measured.
#include "creation_cost/report.hpp"

#include "proclab/interference.hpp"
#include "proclab/metric_ids.hpp"
#include "proclab/render.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab::creation_cost {

std::optional<double> ProcessCosts::median_of(std::string_view id) const {
    const auto it = std::find_if(ops.begin(), ops.end(), [&](const TimedOp& r) { return r.id == id; });
    return it == ops.end() ? std::nullopt : std::optional(it->s.median);
}

namespace {

// Table 1: every operation, T8's figures those of the trial shown, each against the hand-off.
// One operation's figures as the raw series and the plot show them.
struct OperationFigure {
    std::string what;
    double median_ns = 0, p99_ns = 0;
};

// Each row's figure is declared once, in add_row: the table cell, the metric, the raw series and
// the plot (`figures`) are written from the same Summary.
void add_operations_table(Result& result, const ProcessCosts& p, const HandoffTrials& t8,
                          std::vector<OperationFigure>& figures) {
    const T8Trial& shown = t8.trials.shown_evidence();
    const double pool_median = shown.costs.pool.round_trip.median;
    auto& t = result.add_table("1. Creating a thread or a process, and handing a task to a pool",
                               {"operation",
                                {"median", "ns"},
                                {"p99", "ns"},
                                {"max", "ns"},
                                {"n", "count"},
                                {"vs the pool hand-off", "x"},
                                {"page faults/op", "ratio"},
                                {"switches/op", "ratio"},
                                {"migrations/op", "ratio"},
                                "timed in"});
    auto cell = [](const std::optional<double>& v) { return v ? Cell{*v} : Cell{}; };
    auto add_row = [&](const std::string& id, const std::string& what, const Summary& s, const std::string& conditions,
                       bool headline, const KernelCounts& k = {}) {
        t.rows.push_back({what, s.median, s.p99, s.max, double(s.count), s.median / pool_median, cell(k.page_faults),
                          cell(k.context_switches), cell(k.cpu_migrations), conditions});
        figures.push_back({what, s.median, s.p99});
        result.add_metric(id, s, "ns", what).headline = headline;
        if (k.page_faults)
            result.add_metric(id + "_parent_page_faults_per_op", *k.page_faults, "ratio",
                              what + ": the parent thread's page faults per operation");
    };
    std::string unavailable;
    for (const auto& r : p.ops) {
        add_row(r.id, r.what, r.s, describe(r.conditions), r.id == metric_id::kFork || r.id == "posix_spawn",
                r.counted);
        if (!r.counted.unavailable.empty()) unavailable = r.counted.unavailable;
    }
    if (p.reference.ran) {
        const Summary& ref = p.reference.fork;
        const std::string what = "fork + _exit + waitpid in a fresh process (reference)";
        t.rows.push_back({what, ref.median, ref.p99, Cell{}, double(ref.count), ref.median / pool_median, Cell{},
                          Cell{}, Cell{}, describe(p.reference.conditions)});
        figures.push_back({what, ref.median, ref.p99});
        result.add_metric("fork_reference", ref.median, "ns",
                          "fork+exit+wait in a fresh single-threaded copy of this program");
        if (const auto fork = p.median_of(metric_id::kFork))
            result
                .add_metric("fork_vs_reference", *fork / ref.median, "ratio",
                            "this demo's fork against the fresh process's")
                .headline = true;
    } else {
        result.notes.push_back("The fresh-process fork reference did not run: " + p.reference.why_not + ".");
    }
    const std::string trial_label = fmt::format("trial {} of {} (shown)", t8.trials.shown + 1, t8.trials.count());
    add_row(std::string(metric_id::kThreadCreateJoin), "std::thread create + join", shown.costs.thread,
            fmt::format("{}; caller on CPU {}, the thread inherits it", trial_label, t8.caller_cpu), true);
    add_row(std::string(metric_id::kPoolHandoff),
            "pool: hand an empty task to its worker, wait without running it (T8's hand-off)",
            shown.costs.pool.round_trip,
            fmt::format("{}; caller on CPU {}, the worker on CPU {}; {} of {} run by the worker", trial_label,
                        t8.caller_cpu, t8.worker_cpu, shown.costs.pool.on_worker, shown.costs.pool.samples),
            true);
    if (t8.judged == PoolWait::worker)
        add_row(
            "pool_submit_get_helping", "pool: submit and get(), the caller may run its own task (not a hand-off)",
            shown.helping.round_trip,
            fmt::format("{}; {} of {} run by the worker", trial_label, shown.helping.on_worker, shown.helping.samples),
            false);
    t.note = fmt::format(
        "Each operation timed alone, after a warm-up; {} forks, {} execs, {} threads and hand-offs per trial. "
        "Processes are created "
        "first, from this parent running one thread with nothing else grown yet, pinned with its children to CPU {} "
        "(placement would "
        "otherwise decide whether the child's exit wakes the parent across CPUs); 'parent running N threads' adds N-1 "
        "threads blocked in "
        "a wait, which a fork must still account for. The reference is the same fork in a fresh exec'd copy of this "
        "program. The pool "
        "hand-off: a pool of one worker pinned to CPU {}, the caller on CPU {} waiting for the worker "
        "to run the task (it never runs the task itself); "
        "each task notes whether a worker ran it. Its floor is two one-way trips of a cache line between the two CPUs: "
        "the suite's "
        "fastest batch for the pair when the runner measured one, this trial's own otherwise (T8's facts say which). "
        "'May run its own task' lets the caller run a task no worker has taken yet: most tasks never leave the caller. "
        "Page faults, switches and migrations per operation: the parent thread's own, counted by the kernel "
        "(perf_event_open's "
        "software events, as perf stat's page-faults, context-switches, cpu-migrations) over {} more operations after "
        "the timed ones, "
        "so no counter runs beside a timed one; a fork's faults are the parent's copy-on-write faults while the child "
        "shares its pages.{}",
        p.procs_n, p.exec_n, t8.per_trial, p.home_cpu, t8.worker_cpu, t8.caller_cpu,
        p.ops.empty() ? 0 : p.ops.front().counted.ops,
        unavailable.empty() ? "" : " Not counted here: " + unavailable + ".");
}

void add_trials_table(Result& result, const HandoffTrials& t8) {
    auto tt = trials_table(
        t8.trials,
        fmt::format("Trials: {} independent runs of thread create+join against a pool hand-off", t8.trials.count()),
        {{"thread create+join", "ns"},
         {"pool hand-off", "ns"},
         {"run by the worker", "fraction"},
         {"cache-line round trip (floor)", "ns"},
         {"ratio", "x"}},
        [](const T8Trial& x) {
            const auto& p = x.costs.pool;
            return std::vector<Cell>{
                x.costs.thread.median, p.round_trip.median, double(p.on_worker) / double(p.samples),
                p.line_one_way_ns ? Cell{2 * *p.line_one_way_ns} : Cell{}, x.costs.thread.median / p.round_trip.median};
        });
    tt.note = fmt::format(
        "{} of each per trial (medians), as many as make a trial last 300 ms or more, so /proc/stat's ticks "
        "count the load around it finely enough. A trial gives a verdict only where that load, plus its counting "
        "resolution, stayed within {:.0f}% of the CPUs: load slows a hand-off and a new thread alike. The trials "
        "combine as docs/schema.md (\"Trials\") states.",
        t8.per_trial, 100 * kInterferenceMargin);
    result.tables.push_back(std::move(tt));
}

// Table 2: fork against the parent's size, the cost per page from the 0 MiB row.
void add_size_table(Result& result, const ProcessCosts& p) {
    auto& f = result.add_table("2. fork against the parent's size (every page touched first)",
                               {{"parent memory", "bytes"},
                                "huge pages",
                                {"pages", "count"},
                                {"fork+exit+wait", "ns"},
                                {"per 4 KiB page", "ns"},
                                {"vfork", "ns"},
                                {"posix_spawn", "ns"},
                                {"parent RSS while timed", "bytes"}});
    const double base = p.sizes.empty() ? 0 : p.sizes.front().fork_ns;
    for (const auto& s : p.sizes) {
        const double pages = double(s.mib) * 256;
        f.rows.push_back({double(s.mib) * 1024 * 1024, s.huge_pages ? "THP" : "4 KiB", pages, s.fork_ns,
                          s.mib ? Cell{(s.fork_ns - base) / pages} : Cell{}, s.vfork_ns, s.spawn_ns,
                          s.parent_rss_bytes});
        if (s.mib)
            result.add_metric(fmt::format("fork_{}mib{}", s.mib, s.huge_pages ? "_thp" : ""), s.fork_ns, "ns",
                              fmt::format("fork+exit+wait with {} MiB touched{}", s.mib,
                                          s.huge_pages ? " in transparent huge pages" : ""));
    }
    f.note = fmt::format(
        "Median of {} each, in the same parent as table 1 (one thread, pinned to CPU {}); fork at every size timed "
        "right after table "
        "1's fork and before any vfork (after vfork this kernel's fork was faster: table 1's 'again after the vfork "
        "rows'), vfork and "
        "posix_spawn in a second pass. fork copies the page tables (one entry per 4 KiB page, or per 2 MiB with THP) "
        "and marks the pages "
        "copy-on-write; vfork and posix_spawn copy nothing and stay flat. Transparent huge pages: {}.{}",
        p.size_n, p.home_cpu, p.thp_offered ? "offered (rows marked THP use MADV_HUGEPAGE)" : "not offered here",
        p.sizes_skipped.empty() ? "" : fmt::format(" Skipped: {}.", fmt::join(p.sizes_skipped, ", ")));
}

// Table 3: a pool against a thread per task.
void add_sweep_table(Result& result, const std::vector<TaskSizePoint>& sweep) {
    auto& pt = result.add_table("3. A pool against one thread per task", {{"work per task", "ns"},
                                                                          {"tasks", "count"},
                                                                          {"per task: pool", "ns"},
                                                                          {"per task: a thread each", "ns"},
                                                                          {"threads / pool", "x"},
                                                                          {"thread creation's share", "fraction"}});
    for (const auto& p : sweep) {
        const double share = p.threads_ns > 0 ? std::max(0.0, 1.0 - p.pool_ns / p.threads_ns) : 0;
        pt.rows.push_back({p.work_ns, double(p.tasks), p.pool_ns, p.threads_ns, p.threads_ns / p.pool_ns, share});
    }
    pt.note =
        "Per task = wall time / tasks, all CPUs working. 'Thread creation's share' = how much of the thread-per-task "
        "time the pool saves. Where it falls to a few percent, creating a thread per task no longer matters.";
}

Json raw_series(const std::vector<OperationFigure>& operations, const ProcessCosts& p,
                const std::vector<TaskSizePoint>& sweep) {
    Json raw;
    raw["operations"] = Json::array();
    for (const auto& o : operations)
        raw["operations"].push_back(Json{{"what", o.what}, {"median_ns", o.median_ns}, {"p99_ns", o.p99_ns}});
    for (const auto& s : p.sizes)
        raw["fork_vs_size"].push_back(Json{{"mib", s.mib},
                                           {"thp", s.huge_pages},
                                           {"fork_ns", s.fork_ns},
                                           {"vfork_ns", s.vfork_ns},
                                           {"posix_spawn_ns", s.spawn_ns},
                                           {"parent_rss_bytes", s.parent_rss_bytes}});
    for (const auto& s : sweep)
        raw["pool_vs_threads"].push_back(
            Json{{"work_ns", s.work_ns}, {"pool_ns", s.pool_ns}, {"threads_ns", s.threads_ns}});
    return raw;
}

// Every operation's median and p99, longest first at the top, on a log axis.
plot::Plot operations_plot(const std::vector<OperationFigure>& operations) {
    plot::Panel panel{.title = "Creating a thread or a process, against a pool hand-off (T8)",
                      .x = {.label = "time per operation (µs, log scale)", .scale = plot::Scale::log},
                      .y = {.label = "operation (created, then reaped or joined)"},
                      .legend_size = 8};
    plot::Series median{.mark = plot::Mark::hbars, .label = "median", .colour = 0};
    plot::Series p99{.mark = plot::Mark::scatter, .label = "p99", .colour = 3, .line = "", .marker = "|", .width = 200};
    std::vector<std::string> names;
    for (std::size_t i = 0; i < operations.size(); ++i) {
        const auto& o = operations[operations.size() - 1 - i];  // the first row at the top
        names.push_back(o.what);
        median.x.push_back(o.median_ns / 1e3);
        median.y.push_back(double(i));
        p99.x.push_back(o.p99_ns / 1e3);
        p99.y.push_back(double(i));
    }
    plot::set_categories(panel.y, names);
    panel.series = {std::move(median), std::move(p99)};
    return {.file = "creation_costs.png",
            .caption = "Creating a thread or a process against handing a task to a pool, log scale (T8).",
            .width = 10,
            .height = 1.6 + 0.42 * double(operations.size()),
            .panels = {std::move(panel)}};
}

// fork's cost against the memory the parent touched, 4 KiB and huge pages; vfork and posix_spawn.
std::optional<plot::Plot> sizes_plot(const ProcessCosts& p) {
    if (p.sizes.empty()) return std::nullopt;
    plot::Panel panel{.title = "fork's cost against the memory the parent touched (T8)",
                      .x = {.label = "memory the parent touched (MiB)"},
                      .y = {.label = "create + exit + wait (µs, log scale)", .scale = plot::Scale::log},
                      .legend_size = 8};
    plot::Series small{.label = "fork, 4 KiB pages", .colour = 0, .marker = "o"};
    plot::Series huge{.label = "fork, transparent huge pages", .colour = 1, .marker = "o"};
    plot::Series vfork{.label = "vfork", .colour = 2, .line = "--", .marker = "s"};
    plot::Series spawn{.label = "posix_spawn /bin/true", .colour = 3, .line = "--", .marker = "^"};
    for (const auto& s : p.sizes) {
        if (s.huge_pages || s.mib == 0) {  // huge pages start from the same empty parent
            huge.x.push_back(s.mib);
            huge.y.push_back(s.fork_ns / 1e3);
        }
        if (s.huge_pages) continue;
        for (auto* series : {&small, &vfork, &spawn}) series->x.push_back(s.mib);
        small.y.push_back(s.fork_ns / 1e3);
        vfork.y.push_back(s.vfork_ns / 1e3);
        spawn.y.push_back(s.spawn_ns / 1e3);
    }
    panel.series.push_back(std::move(small));
    const bool huge_drawn = huge.x.size() > 1;
    if (huge_drawn) panel.series.push_back(std::move(huge));
    panel.series.push_back(std::move(vfork));
    panel.series.push_back(std::move(spawn));
    return plot::Plot{
        .file = "fork_vs_size.png",
        .caption = fmt::format("fork, vfork and posix_spawn against the memory the parent touched{} (T8).",
                               huge_drawn ? ", 4 KiB and transparent huge pages" : ""),
        .panels = {std::move(panel)}};
}

}  // namespace

void present(Result& result, const ProcessCosts& processes, const HandoffTrials& t8,
             const std::vector<TaskSizePoint>& sweep) {
    std::vector<OperationFigure> operations;
    add_operations_table(result, processes, t8, operations);
    add_trials_table(result, t8);
    add_size_table(result, processes);
    add_sweep_table(result, sweep);
    result.config.trials = t8.trials.count();
    result.raw = raw_series(operations, processes, sweep);
    if (!operations.empty()) result.plots.push_back(operations_plot(operations));
    if (auto sizes = sizes_plot(processes)) result.plots.push_back(std::move(*sizes));
}

}  // namespace proclab::creation_cost
