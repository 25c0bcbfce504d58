// context_switch's report (see report.hpp): every table from what was measured.
#include "context_switch/report.hpp"

#include "proclab/environment.hpp"
#include "proclab/metric_ids.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace proclab::context_switch {

namespace {

// Every configuration: its round trip, its hop, the hop less the channel, switches per hop.
void add_pingpong_table(Result& result, const DemoContext& ctx, const Measured& measured) {
    const auto& ms = measured.pingpong;
    const auto& line = measured.line;
    const auto& pair_text = measured.pair_text;
    const Counts& counts = measured.counts;
    const std::optional<double> floor =
        line ? std::optional(line->floor_ns()) : std::nullopt;  // a fastest batch: a lower bound
    auto& t = result.add_table("Ping-pong: one token handed back and forth", {"endpoints",
                                                                              "channel",
                                                                              "CPUs",
                                                                              {"round trip median", "ns"},
                                                                              {"p99", "ns"},
                                                                              {"hop", "ns"},
                                                                              {"channel alone", "ns"},
                                                                              {"hop corrected", "ns"},
                                                                              {"hop p99", "ns"},
                                                                              {"switches/hop", "ratio"},
                                                                              {"repetition medians, least", "ns"},
                                                                              {"most", "ns"},
                                                                              "check"});
    for (const auto& m : ms) {
        const auto [lo, hi] = std::minmax_element(m.rep_medians.begin(), m.rep_medians.end());
        t.rows.push_back({name(m.config.kind), name(m.config.channel),
                          m.config.same_cpu
                              ? fmt::format("{} (same)", m.config.cpu_initiator)
                              : fmt::format("{} and {} ({})", m.config.cpu_initiator, m.config.cpu_echo, pair_text),
                          m.round_trip.median, m.round_trip.p99, m.hop(), m.overhead_per_hop,
                          m.is_switch() ? Cell{m.hop_corrected()} : Cell{"not a switch"}, m.round_trip.p99 / 2,
                          m.switches_per_hop >= 0 ? Cell{m.switches_per_hop} : Cell{}, *lo, *hi,
                          floor_check(m.hop(), m.config.same_cpu, floor)});
        const std::string tag = fmt::format("{}_{}_{}", name(m.config.kind), name(m.config.channel),
                                            m.config.same_cpu ? "same_cpu" : "cross_cpu");
        // What the id says, in words: the people's name of the metric.
        const std::string config = fmt::format("{} over a {}, {}", name(m.config.kind), name(m.config.channel),
                                               m.config.same_cpu ? "one CPU" : "two CPUs");
        auto id = [&](std::string_view figure) {
            return metric_id::context_switch(figure, name(m.config.kind), name(m.config.channel), m.config.same_cpu);
        };
        result.add_metric(id(metric_id::kRoundTrip), m.round_trip, "ns", "token round trip (two hops), " + config)
            .headline = m.config.same_cpu && m.config.channel == Channel::pipe;
        if (m.is_switch())
            result.add_metric(id(metric_id::kHopCorrected), m.hop_corrected(), "ns",
                              "one switch (half a round trip less the channel's own cost), " + config);
        else
            result.add_metric("hop_" + tag, m.hop(), "ns",
                              fmt::format("half a round trip, {}; not a switch ({:.2f} switches per hop)", config,
                                          m.switches_per_hop));
        if (m.switches_per_hop >= 0)
            result.add_metric("switches_per_hop_" + tag, m.switches_per_hop, "ratio",
                              "context switches per hop, " + config);
    }
    t.note = fmt::format(
        "{} repetitions of {} round trips after {} warm-up ones; clock overhead ({}) subtracted per sample. hop = "
        "round trip / 2; "
        "'channel alone' = the same system calls by one thread with nobody to switch to (lmbench's subtraction); hop "
        "p99 = "
        "round-trip p99 / 2. perf bench sched pipe's usecs/op is the round-trip column. 'not a switch': fewer than "
        "{:.1f} switches "
        "per hop were counted (the other side often had answered before this one slept), so the hop is a wake-up or a "
        "cache-line "
        "hand-off, not a context switch, and no switch cost is derived from it. Two-CPU rows: the pair's place in the "
        "topology "
        "(sysfs) and a cache line's one-way hand-off between them, the floor under any cross-CPU hop: a hop below it "
        "is flagged "
        "in 'check' as implausible{}.",
        counts.repetitions, counts.round_trips, counts.warmup, format_value(ctx.clock.read_overhead_ns, "ns"),
        kSwitchesPerHop, line ? "; the floor: " + line->describe() : "");
}

// What the kernel counted for the initiator thread, per round trip, in an untimed pass.
void add_kernel_counts_table(Result& result, const Measured& measured) {
    auto& t = result.add_table("What the kernel counted: the initiator thread's own events per round trip",
                               {"endpoints",
                                "channel",
                                "placement",
                                {"round trips counted", "count"},
                                {"switches/round trip", "ratio"},
                                {"migrations/round trip", "ratio"},
                                {"page faults/round trip", "ratio"}});
    std::string unavailable;
    for (const auto& m : measured.pingpong) {
        if (!m.counters_unavailable.empty()) {
            unavailable = m.counters_unavailable;
            continue;
        }
        auto cell = [](const std::optional<double>& v) { return v ? Cell{*v} : Cell{}; };
        t.rows.push_back({name(m.config.kind), name(m.config.channel), m.config.same_cpu ? "one CPU" : "two CPUs",
                          double(m.counted_round_trips), cell(m.initiator_switches), cell(m.initiator_migrations),
                          cell(m.initiator_faults)});
    }
    t.note =
        "perf_event_open's software events for the initiator thread alone (what perf stat -e "
        "context-switches,cpu-migrations,"
        "page-faults reads), over round trips run after the timed ones, so no counter runs beside a timed round trip. "
        "The "
        "figures to expect: 1 switch where the initiator blocks once per round trip (fewer where the answer came "
        "before it slept), "
        "0 migrations (it is pinned), 0 page faults (its buffers are touched before).";
    if (!unavailable.empty()) t.note += " Not counted here: " + unavailable + ".";
}

// Threads against processes, two CPUs against one, a hop against the line's hand-off.
void add_ratios_table(Result& result, const DemoContext& ctx, const Measured& measured) {
    const auto& ms = measured.pingpong;
    const auto& line = measured.line;
    auto& r = result.add_table("Ratios", {"comparison", "channel", "placement", {"ratio", "x"}, "of"});
    for (Channel ch : measured.channels) {
        for (bool same : {true, false}) {
            const auto* p = find(ms, Kind::processes, ch, same);
            const auto* th = find(ms, Kind::threads, ch, same);
            if (p && th && p->is_switch() && th->is_switch() && p->hop_corrected() > 0)
                r.rows.push_back({"threads / processes", name(ch), same ? "same CPU" : "two CPUs",
                                  th->hop_corrected() / p->hop_corrected(), "corrected hops"});
        }
        for (Kind k : measured.kinds) {
            const auto* same = find(ms, k, ch, true);
            const auto* cross = find(ms, k, ch, false);
            if (same && cross && same->hop() > 0)
                r.rows.push_back({fmt::format("two CPUs / same CPU ({})", name(k)), name(ch), "-",
                                  cross->hop() / same->hop(), "raw hops"});
            if (cross && line && line->own.one_way_ns > 0)
                r.rows.push_back({fmt::format("two-CPU hop / line hand-off ({})", name(k)), name(ch), "two CPUs",
                                  cross->hop() / line->own.one_way_ns, "raw hop"});
        }
    }
    r.note =
        "A thread switch skips the address-space change (no page-table switch, no TLB flush with PCID), so it can be a "
        "little "
        "cheaper; a cross-CPU hop adds a wake-up of the other CPU, which in a virtual machine is costly: against the "
        "line hand-off, "
        "what is the kernel's and the hypervisor's, not the cache's.";
    if (ctx.env.affinity_cpus.size() < 2)
        result.notes.push_back(
            fmt::format("Cross-CPU placement not measured: only one CPU ({}) is allowed to this process.",
                        format_cpu_list(ctx.env.affinity_cpus)));
}

// The working-set sweep (lat_ctx -s), on the first configuration chosen.
void add_sweep_table(Result& result, const Measured& measured) {
    const auto& sweep = measured.sweep;
    const Config& c = sweep.front().config;
    const double base = sweep.front().switch_cost();
    auto& w = result.add_table(fmt::format("Switch cost against working set ({}, {}, {})", name(c.kind),
                                           name(c.channel), c.same_cpu ? "one CPU" : "two CPUs"),
                               {{"working set per endpoint", "bytes"},
                                {"round trips", "count"},
                                {"hop", "ns"},
                                {"channel alone", "ns"},
                                {"warm pass alone", "ns"},
                                {"switch + cache lost", "ns"},
                                {"against the smallest", "x"},
                                {"switches/hop", "ratio"}});
    Json series = Json::array();
    // The switch with no working set is the floor of every other row: a switch that also lost cache
    // cannot cost less than the switch alone. Below it (by more than 10%) the difference of two
    // large figures (the hop, the warm pass) is noise, and the row says so instead of a number.
    constexpr double kFloorTolerance = 0.10;
    for (const auto& m : sweep) {
        const bool below_floor =
            m.config.working_set > 0 && base > 0 && m.is_switch() && m.switch_cost() < base * (1 - kFloorTolerance);
        Cell cost = !m.is_switch() ? Cell{"not a switch"}
                    : below_floor  ? Cell{fmt::format("below its floor ({})", format_value(base, "ns"))}
                                   : Cell{m.switch_cost()};
        w.rows.push_back({double(m.config.working_set), double(m.round_trips), m.hop(), m.overhead_per_hop,
                          m.touch_alone, std::move(cost),
                          base > 0 && m.is_switch() && !below_floor ? Cell{m.switch_cost() / base} : Cell{},
                          m.switches_per_hop >= 0 ? Cell{m.switches_per_hop} : Cell{}});
        if (!below_floor)
            result
                .add_metric(
                    "switch_cost_ws_" + byte_id(m.config.working_set), m.switch_cost(), "ns",
                    fmt::format("one hop less the channel and a warm pass over {}: the switch and the cache it cost",
                                byte_label(m.config.working_set)))
                .headline = m.config.working_set == 0 || m.config.working_set == (1u << 20);
        series.push_back({{"working_set", m.config.working_set},
                          {"hop_ns", m.hop()},
                          {"channel_alone_ns", m.overhead_per_hop},
                          {"touch_alone_ns", m.touch_alone},
                          {"switch_cost_ns", m.switch_cost()},
                          {"switches_per_hop", m.switches_per_hop}});
    }
    w.note =
        "lmbench lat_ctx -s: each endpoint reads every cache line of its own working set when the token arrives. "
        "'switch + "
        "cache lost' = hop - channel alone - the same pass with the cache warm; it rises once the two working sets no "
        "longer "
        "fit in the caches together (each switch finds its data evicted by the other's pass). Past the last-level "
        "cache even the warm pass streams from memory, so the "
        "difference falls again: a switch cannot lose what the cache could not keep. Fewer round trips at the larger "
        "sizes. "
        "'Below its floor': less than the switch alone (the first row) by more than 10%, which no switch can cost: the "
        "difference of two large figures (the hop, the warm pass) is noise there, not a result, and no metric is kept.";
    result.raw = Json{{"working_set_sweep",
                       {{"endpoints", name(c.kind)},
                        {"channel", name(c.channel)},
                        {"same_cpu", c.same_cpu},
                        {"points", std::move(series)}}}};
}

// One switch, processes beside threads, for each channel and placement where both were switches.
std::optional<plot::Plot> switch_plot(const Measured& measured) {
    plot::Panel panel{.title = "Context switch cost: processes vs threads, one CPU vs two (P2, T1)",
                      .x = {.label = "channel and placement"},
                      .y = {.label = "one hop, channel overhead subtracted (µs)", .min = 0},
                      .legend = "upper left",
                      .legend_size = 8};
    plot::Series processes{
        .mark = plot::Mark::bars, .label = "two processes", .colour = 0, .width = 0.4, .value_labels = true};
    plot::Series threads{
        .mark = plot::Mark::bars, .label = "two threads", .colour = 1, .width = 0.4, .value_labels = true};
    std::vector<std::string> groups;
    for (bool same : {true, false})
        for (Channel ch : measured.channels) {
            const auto* p = find(measured.pingpong, Kind::processes, ch, same);
            const auto* t = find(measured.pingpong, Kind::threads, ch, same);
            if (!p || !t || !p->is_switch() || !t->is_switch()) continue;
            const double at = double(groups.size());
            groups.push_back(fmt::format("{}\n{}", name(ch), same ? "one CPU" : "two CPUs"));
            processes.x.push_back(at - 0.2);
            processes.y.push_back(p->hop_corrected() / 1e3);
            threads.x.push_back(at + 0.2);
            threads.y.push_back(t->hop_corrected() / 1e3);
        }
    if (groups.empty()) return std::nullopt;
    plot::set_categories(panel.x, groups);
    panel.series = {std::move(processes), std::move(threads)};
    return plot::Plot{
        .file = "context_switch.png",
        .caption = "One context switch: processes beside threads, for each channel and placement measured (P2, T1).",
        .panels = {std::move(panel)}};
}

// The working-set sweep: the switch with the cache it lost, the whole hop, the warm pass.
std::optional<plot::Plot> working_set_plot(const Measured& measured) {
    const auto& sweep = measured.sweep;
    if (sweep.size() < 2) return std::nullopt;
    const Config& c = sweep.front().config;
    plot::Panel panel{.title = fmt::format("What a switch costs in cache: {}, {}, {} (lmbench lat_ctx -s)",
                                           name(c.kind), name(c.channel), c.same_cpu ? "one CPU" : "two CPUs"),
                      .x = {.label = "working set per endpoint (each side reads it when the token arrives)"},
                      .y = {.label = "µs per hop = half a round trip (log scale)", .scale = plot::Scale::log}};
    // The sizes are evenly spaced categories (0 has no place on a log axis); a value of 0 (the
    // warm pass over 0 bytes) has no place on the log axis either and is left out.
    plot::Series cost{.label = "switch + cache lost (hop - channel - warm pass)", .colour = 0, .marker = "o"};
    plot::Series hop{.label = "whole hop", .colour = 1, .line = "--", .marker = "s", .alpha = 0.8};
    plot::Series warm{
        .label = "the same pass with the cache warm", .colour = 2, .line = ":", .marker = "^", .alpha = 0.8};
    std::vector<std::string> sizes;
    for (const auto& m : sweep) {
        const double at = double(sizes.size());
        sizes.push_back(m.config.working_set == 0 ? "0 B" : byte_label(m.config.working_set));
        for (auto [series, value] :
             {std::pair{&cost, m.switch_cost()}, std::pair{&hop, m.hop()}, std::pair{&warm, m.touch_alone}})
            if (value > 0) {
                series->x.push_back(at);
                series->y.push_back(value / 1e3);
            }
    }
    if (warm.x.size() < sweep.size()) warm.label += " (0 B: nothing to read)";
    plot::set_categories(panel.x, sizes);
    panel.series = {std::move(cost), std::move(hop), std::move(warm)};
    return plot::Plot{
        .file = "working_set.png",
        .caption =
            "What a switch costs in lost cache, against each endpoint's working set (context_switch, lat_ctx -s).",
        .width = 7.5,
        .panels = {std::move(panel)}};
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const Measured& m) {
    result.config.repeat = m.counts.round_trips;
    if (m.line) {
        result.add_metric("handoff_one_way", m.line->own.one_way_ns, "ns",
                          "a cache line handed between the two CPUs, one way");
        if (const auto drift = m.line->drift())
            result.add_metric("line_floor_drift", *drift, "fraction",
                              "this demo's fastest hand-off batch against the suite's floor for the pair, less 1");
    }
    add_pingpong_table(result, ctx, m);
    add_ratios_table(result, ctx, m);
    add_kernel_counts_table(result, m);
    if (!m.sweep.empty()) add_sweep_table(result, m);
    if (auto p = switch_plot(m)) result.plots.push_back(std::move(*p));
    if (auto p = working_set_plot(m)) result.plots.push_back(std::move(*p));
}

}  // namespace proclab::context_switch
