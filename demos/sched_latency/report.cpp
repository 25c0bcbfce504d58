#include "sched_latency/report.hpp"

#include "proclab/render.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace proclab::sched_latency {

std::string load_label(int load_tasks, int cpus) {
    if (load_tasks == 0) return "idle";
    if (cpus > 0 && load_tasks % cpus == 0) return fmt::format("{} busy ({}x CPUs)", load_tasks, load_tasks / cpus);
    return fmt::format("{} busy", load_tasks);
}

namespace {

std::string load_id(int load_tasks) { return load_tasks == 0 ? "idle" : fmt::format("load{}", load_tasks); }

std::string policy_id(Policy p) {
    switch (p) {
        case Policy::other: return "other";
        case Policy::nice_minus_10: return "nice_minus_10";
        case Policy::fifo: return "fifo";
    }
    return "?";
}

// Upper edges of the histogram's buckets, in ns (the last is open).
constexpr std::array<double, 10> kBucketEdges{10e3, 20e3, 50e3, 100e3, 200e3, 500e3, 1e6, 2e6, 5e6, 10e6};

std::vector<Cell> histogram_cells(const std::vector<double>& samples) {
    std::array<double, kBucketEdges.size() + 1> counts{};
    for (double s : samples) {
        std::size_t i = 0;
        while (i < kBucketEdges.size() && s >= kBucketEdges[i]) ++i;
        counts[i] += 1;
    }
    std::vector<Cell> out;
    for (double c : counts) out.emplace_back(c);
    return out;
}

Json percentiles_json(const std::vector<double>& sorted) {
    Json p = Json::array();
    for (int i = 0; i <= 100; ++i) p.push_back(percentile_sorted(sorted, i));
    return p;
}

void add_lateness(Result& result, const Measured& m, Json& raw) {
    auto& t = result.add_table("Timer lateness (cyclictest's method): how late a sleeper woke for its deadline",
                               {"load",
                                "policy",
                                {"wake-ups", "count"},
                                {"p50", "ns"},
                                {"p90", "ns"},
                                {"p99", "ns"},
                                {"p99.9", "ns"},
                                {"max", "ns"},
                                {"timer slack", "ns"},
                                {"run_delay/wake-up", "ns"},
                                {"switches/wake-up", "ratio"},
                                {"migrations", "count"},
                                "note"});
    std::vector<Column> hcols{"load", "policy"};
    hcols.push_back({"< 10 µs", "count"});
    const std::array<const char*, 10> labels{"10-20 µs", "20-50 µs", "50-100 µs", "0.1-0.2 ms", "0.2-0.5 ms",
                                             "0.5-1 ms", "1-2 ms",   "2-5 ms",    "5-10 ms",    ">= 10 ms"};
    for (const char* l : labels) hcols.push_back({l, "count"});
    Table hist;
    hist.title = "Timer lateness histogram: wake-ups per bucket";
    hist.columns = hcols;
    Json cells = Json::array();
    std::string counters_unavailable;
    for (std::size_t i = 0; i < m.lateness.size(); ++i) {
        const auto& c = m.lateness[i];
        const auto& s = m.lateness_samples[i];
        const std::string load = load_label(c.load_tasks, c.cpus);
        if (!c.refused.empty() || c.samples_ns.empty()) {
            t.rows.push_back({load, std::string(name(c.policy)), Cell{}, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}, Cell{},
                              Cell{}, Cell{}, Cell{},
                              c.refused.empty() ? "no wake-up recorded" : "not measured: " + c.refused});
            continue;
        }
        std::vector<double> sorted = c.samples_ns;
        std::sort(sorted.begin(), sorted.end());
        const Summary sum = summarize(sorted);
        std::string note;
        const auto missed = s.wakeups_planned - static_cast<std::int64_t>(sorted.size());
        if (missed > 0) note = fmt::format("{} deadlines passed while it waited", missed);
        t.rows.push_back({load, std::string(name(c.policy)), double(sorted.size()), sum.median, sum.p90, sum.p99,
                          percentile_sorted(sorted, 99.9), sum.max,
                          s.timer_slack_ns >= 0 ? Cell{s.timer_slack_ns} : Cell{},
                          c.run_delay_per_wakeup_ns >= 0 ? Cell{c.run_delay_per_wakeup_ns} : Cell{},
                          s.switches_per_wakeup ? Cell{*s.switches_per_wakeup} : Cell{},
                          s.migrations ? Cell{*s.migrations} : Cell{}, note});
        if (!s.counters_unavailable.empty()) counters_unavailable = s.counters_unavailable;
        std::vector<Cell> row{load, std::string(name(c.policy))};
        for (auto& h : histogram_cells(c.samples_ns)) row.push_back(h);
        hist.rows.push_back(std::move(row));
        const std::string id = fmt::format("lateness_{}_{}", policy_id(c.policy), load_id(c.load_tasks));
        const bool decisive = c.policy == Policy::other || c.policy == Policy::fifo;
        result.add_metric(id, sum, "ns", fmt::format("timer lateness, {}, {}", name(c.policy), load)).headline =
            decisive && c.load_tasks > 0;
        result.add_metric(id + "_p99", sum.p99, "ns", fmt::format("timer lateness p99, {}, {}", name(c.policy), load));
        if (c.run_delay_per_wakeup_ns >= 0)
            result.add_metric(id + "_run_delay_per_wakeup", c.run_delay_per_wakeup_ns, "ns",
                              fmt::format("run_delay per wake-up (schedstat), {}, {}", name(c.policy), load));
        cells.push_back({{"policy", option_name(c.policy)},
                         {"load_tasks", c.load_tasks},
                         {"cpus", c.cpus},
                         {"count", sorted.size()},
                         {"p99_9", percentile_sorted(sorted, 99.9)},
                         {"percentiles", percentiles_json(sorted)}});
    }
    t.note = fmt::format(
        "A thread of this process sleeps to absolute deadlines every {} (clock_nanosleep, TIMER_ABSTIME) for {} per "
        "cell, as "
        "cyclictest does, after 5 wake-ups of warm-up; lateness = woken - deadline, the clock's read cost subtracted. "
        "'busy': "
        "CPU-bound processes beside it{}. SCHED_OTHER threads sleep with the timer slack shown (the kernel may fire "
        "their timer "
        "that much later to batch wake-ups); SCHED_FIFO threads have none, which alone makes much of the difference "
        "between the "
        "policies on an idle machine. run_delay/wake-up: the sleeper's own schedstat, time runnable but not running, "
        "per time it "
        "was switched in: the part of the lateness spent waiting for a CPU. switches/wake-up and migrations: "
        "perf_event_open's "
        "software events for the sleeper thread over the measured wake-ups (1 where it blocked once per wake-up).",
        format_value(double(m.interval_ns), "ns"), format_value(double(m.duration_ns), "ns"),
        m.pin_cpu ? fmt::format(", every one pinned to CPU {}", *m.pin_cpu)
                  : std::string(", free to run on any allowed CPU"));
    if (!counters_unavailable.empty())
        t.note += " Switches and migrations not counted here: " + counters_unavailable + ".";
    hist.note =
        "The same wake-ups by bucket of lateness; a bucket holds values from its lower edge up to, not including, its "
        "upper.";
    result.tables.push_back(std::move(hist));
    raw["lateness"] = std::move(cells);
    if (m.tick_ns)
        result.add_metric(
            "tick_observed", *m.tick_ns, "ns",
            m.tick_from_jiffies
                ? "the timer tick, from the kernel's jiffies over the lateness cells"
                : "one local timer interrupt per this in the most loaded SCHED_OTHER cell (the tick is at least this)");
}

void add_wakeups(Result& result, const Measured& m, Json& raw) {
    auto& t = result.add_table("Wake-up latency (schbench's shape): a waker stamps the clock and wakes a sleeper",
                               {"channel",
                                "endpoints",
                                "load",
                                {"wake-ups", "count"},
                                {"p50", "ns"},
                                {"p90", "ns"},
                                {"p99", "ns"},
                                {"max", "ns"},
                                {"run_delay/wake-up", "ns"},
                                "note"});
    Json cells = Json::array();
    for (const auto& w : m.wakeups) {
        const std::string load = load_label(w.load_tasks, m.cpus);
        if (w.samples.ns.empty()) {
            t.rows.push_back({std::string(name(w.channel)), std::string(name(w.kind)), load, 0.0, Cell{}, Cell{},
                              Cell{}, Cell{}, Cell{},
                              w.samples.refused.empty() ? "no wake-up recorded" : w.samples.refused});
            continue;
        }
        const Summary sum = summarize(w.samples.ns);
        const auto& k = w.samples.kernel;
        t.rows.push_back({std::string(name(w.channel)), std::string(name(w.kind)), load, double(sum.count), sum.median,
                          sum.p90, sum.p99, sum.max,
                          k.known && k.switched_in > 0 ? Cell{k.run_delay_per_wakeup()} : Cell{}, w.samples.refused});
        const std::string id = fmt::format("wakeup_{}_{}_{}", name(w.channel), name(w.kind), load_id(w.load_tasks));
        result
            .add_metric(id, sum, "ns",
                        fmt::format("wake-up latency, {} between {}, {}", name(w.channel), name(w.kind), load))
            .headline = w.channel == Channel::futex && w.load_tasks > 0;
        if (k.known && k.switched_in > 0)
            result.add_metric(id + "_run_delay_per_wakeup", k.run_delay_per_wakeup(), "ns",
                              fmt::format("the sleeper's run_delay per wake-up (schedstat), {} between {}, {}",
                                          name(w.channel), name(w.kind), load));
        std::vector<double> sorted = w.samples.ns;
        std::sort(sorted.begin(), sorted.end());
        cells.push_back({{"channel", name(w.channel)},
                         {"kind", name(w.kind)},
                         {"load_tasks", w.load_tasks},
                         {"count", sorted.size()},
                         {"percentiles", percentiles_json(sorted)}});
    }
    t.note = fmt::format(
        "Every {} the waker stores CLOCK_MONOTONIC in shared memory and wakes the sleeper (FUTEX_WAKE on a shared "
        "word, or 8 bytes "
        "down a pipe); the sleeper reads the clock as soon as it runs. The waker waits for each answer before the next "
        "wake, so "
        "the sleeper is always asleep when woken. Threads: two threads of this process; processes: a forked sleeper "
        "sharing one "
        "MAP_SHARED page. Latency = the wake's system call, the wake-up itself and any wait for a CPU; "
        "run_delay/wake-up is the "
        "last of these, as the sleeper's schedstat counts it.",
        format_value(double(m.interval_ns), "ns"));
    raw["wakeup"] = std::move(cells);
}

void add_messaging(Result& result, const Measured& m) {
    auto& t = result.add_table("Many tasks messaging (hackbench's shape)", {"tasks are",
                                                                            "channel",
                                                                            {"groups", "count"},
                                                                            {"tasks", "count"},
                                                                            {"messages", "count"},
                                                                            {"total, median", "ns"},
                                                                            {"least", "ns"},
                                                                            {"most", "ns"},
                                                                            {"last message read", "ns"},
                                                                            {"per message", "ns"}});
    for (const auto& c : m.messaging) {
        if (!c.result.refused.empty()) {
            t.rows.push_back({std::string(name(c.config.kind)), std::string(name(c.config.transport)),
                              double(c.config.groups), double(c.result.tasks), "not measured: " + c.result.refused,
                              Cell{}, Cell{}, Cell{}, Cell{}, Cell{}});
            continue;
        }
        const auto [least, most] = std::minmax_element(c.totals.begin(), c.totals.end());
        t.rows.push_back({std::string(name(c.config.kind)), std::string(name(c.config.transport)),
                          double(c.config.groups), double(c.result.tasks), double(c.result.messages), c.result.total_ns,
                          c.totals.empty() ? Cell{} : Cell{*least}, c.totals.empty() ? Cell{} : Cell{*most},
                          c.result.last_read_ns, c.result.per_message_ns()});
        result
            .add_metric(fmt::format("messaging_{}_{}_per_message", name(c.config.kind), name(c.config.transport)),
                        c.result.per_message_ns(), "ns",
                        fmt::format("hackbench's shape, {} over {}: time per 100-byte message", name(c.config.kind),
                                    name(c.config.transport)))
            .headline = c.config.transport == Transport::pipe;
        result.add_metric(fmt::format("messaging_{}_{}_total", name(c.config.kind), name(c.config.transport)),
                          c.result.total_ns, "ns",
                          fmt::format("hackbench's 'Time:', perf bench sched messaging's 'Total time', {} over {}",
                                      name(c.config.kind), name(c.config.transport)));
    }
    const int loops = m.messaging.empty() ? 0 : m.messaging.front().config.loops;
    t.note = fmt::format(
        "Each group: {0} receivers and {0} senders; every sender writes {1} messages of {2} bytes to each receiver of "
        "its group "
        "(hackbench -g G -f {0} -l {1} [-p] [-T]; perf bench sched messaging -g G -l {1} [-p] [-t]). Timed from the "
        "opening of the "
        "gate every task waits at to the last task's end; 'total' is the tools' own figure, here the median of {3} "
        "timed runs after an untimed one; 'last message read': from the gate to the last receiver's last message, in "
        "the same run, so the rest of the total is "
        "the tasks exiting and being reaped (a process's exit tears down its address space). More tasks than CPUs: the "
        "time is the "
        "scheduler handing the CPUs among blocked and woken tasks as much as the copying.",
        kFdsPerGroup, loops, kMessageBytes, m.messaging.empty() ? 0 : m.messaging.front().totals.size());
}

// The share of wake-ups later than each lateness (a CCDF), one line per policy and load: colour
// the policy, dashes the load.
std::optional<plot::Plot> lateness_plot(const Measured& m) {
    plot::Panel panel{.title = "Timer lateness by policy and load (sched_latency, P2)",
                      .x = {.label = "lateness: woken - deadline (µs, log scale)", .scale = plot::Scale::log},
                      .y = {.label = "share of wake-ups later than x (log scale)", .scale = plot::Scale::log},
                      .legend = "outside"};
    std::vector<Policy> policies;
    std::set<int> loads;
    for (const auto& c : m.lateness) {
        loads.insert(c.load_tasks);
        if (std::find(policies.begin(), policies.end(), c.policy) == policies.end()) policies.push_back(c.policy);
    }
    const char* dashes[] = {"-", "--", ":", "-."};
    for (const auto& c : m.lateness) {
        if (c.samples_ns.empty()) continue;
        std::vector<double> sorted = c.samples_ns;
        std::sort(sorted.begin(), sorted.end());
        plot::Series line{.label = fmt::format("{}, {}", name(c.policy), load_label(c.load_tasks, c.cpus)),
                          .colour = int(std::find(policies.begin(), policies.end(), c.policy) - policies.begin()),
                          .line = dashes[std::distance(loads.begin(), loads.find(c.load_tasks)) % 4]};
        for (int i = 0; i < 100; ++i) {  // p100 has nothing beyond it: no place on a log axis
            const double v = percentile_sorted(sorted, i);
            if (v <= 0) continue;
            line.x.push_back(v / 1e3);
            line.y.push_back(1 - i / 100.0);
        }
        // Below 1 / (wake-ups) a share is not measured: p99.9 only from 1000 wake-ups on.
        if (const double v = percentile_sorted(sorted, 99.9); sorted.size() >= 1000 && v > 0) {
            line.x.push_back(v / 1e3);
            line.y.push_back(0.001);
        }
        if (!line.x.empty()) panel.series.push_back(std::move(line));
    }
    if (panel.series.empty()) return std::nullopt;
    return plot::Plot{
        .file = "sched_lateness.png",
        .caption =
            "How late a sleeper woke for its deadline, by policy and load: the share of wake-ups later than each "
            "lateness (sched_latency, P2).",
        .width = 9.5,
        .height = 4.8,
        .panels = {std::move(panel)}};
}

// Wake-up p99 against the load beside the waker and the sleeper, one line per channel and kind.
std::optional<plot::Plot> wakeup_plot(const Measured& m) {
    std::set<int> loads;
    for (const auto& w : m.wakeups) loads.insert(w.load_tasks);
    const std::vector<int> load_list(loads.begin(), loads.end());
    plot::Panel panel{.title = "Wake-up p99 against load: threads and processes (sched_latency)",
                      .x = {.label = "CPU-bound processes beside the waker and the sleeper"},
                      .y = {.label = "wake-up latency p99 (µs, log scale)", .scale = plot::Scale::log},
                      .legend_size = 8};
    plot::set_ticks(panel.x, load_list, [&](int load) { return load_label(load, m.cpus); });
    std::vector<std::pair<Channel, Kind>> keys;
    for (const auto& w : m.wakeups)
        if (std::find(keys.begin(), keys.end(), std::pair{w.channel, w.kind}) == keys.end())
            keys.emplace_back(w.channel, w.kind);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        plot::Series line{.label = fmt::format("{}, two {}", name(keys[i].first), name(keys[i].second)),
                          .colour = int(i),
                          .marker = "o"};
        for (const auto& w : m.wakeups) {
            if (std::pair{w.channel, w.kind} != keys[i] || w.samples.ns.empty()) continue;
            line.x.push_back(w.load_tasks);
            line.y.push_back(summarize(w.samples.ns).p99 / 1e3);
        }
        if (!line.x.empty()) panel.series.push_back(std::move(line));
    }
    if (panel.series.empty()) return std::nullopt;
    // What to see: a line that starts higher at idle than under load is the surprise a reader asks
    // about, so the caption counts those lines and gives the usual cause.
    int idle_slower = 0, with_both = 0;
    for (const auto& line : panel.series) {
        if (line.x.size() < 2 || line.x.front() != 0) continue;
        ++with_both;
        idle_slower += line.y.front() > *std::max_element(line.y.begin() + 1, line.y.end());
    }
    std::string caption =
        "Wake-up latency p99 between two threads and two processes, against the load beside them (sched_latency).";
    if (idle_slower > 0)
        caption += fmt::format(
            " In {} of {} lines the idle machine woke its sleeper later than any load did: a woken task on an idle CPU "
            "waits for that CPU to leave its idle state (a halted virtual CPU, on a VM, for the host to run it again), "
            "while on a loaded one it only preempts the task there.",
            idle_slower, with_both);
    return plot::Plot{.file = "wakeup_latency.png", .caption = std::move(caption), .panels = {std::move(panel)}};
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const Measured& m) {
    (void)ctx;
    Json raw = Json::object();
    if (!m.lateness.empty()) add_lateness(result, m, raw);
    if (!m.wakeups.empty()) add_wakeups(result, m, raw);
    if (!m.messaging.empty()) add_messaging(result, m);
    if (!m.tick_unknown.empty()) result.notes.push_back("Tick not observed: " + m.tick_unknown + ".");
    if (m.cpus < 2)
        result.notes.push_back("One CPU: the load shares it with the sleeper; there is no other CPU to wake on.");
    result.raw = std::move(raw);
    if (auto p = lateness_plot(m)) result.plots.push_back(std::move(*p));
    if (auto p = wakeup_plot(m)) result.plots.push_back(std::move(*p));
}

}  // namespace proclab::sched_latency
