// ipc_cost's report (see report.hpp): every table and note from what was measured.
#include "ipc_cost/report.hpp"

#include "ipc_cost/targets.hpp"

#include "proclab/render.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace proclab::ipc_cost {

namespace {

std::string cpus_label(const Placement& p) {
    return p.same_cpu() ? fmt::format("{} (same)", p.initiator_cpu)
                        : fmt::format("{} and {}", p.initiator_cpu, p.responder_cpu);
}
std::string place_id(const Placement& p) { return p.same_cpu() ? "same_cpu" : "two_cpus"; }

const WayRun* find_run(const std::vector<WayRun>& runs, WayId way, bool same_cpu) {
    for (const auto& r : runs)
        if (r.way == way && r.placement.same_cpu() == same_cpu && r.available) return &r;
    return nullptr;
}

// The sizes the single-size table and the metrics quote: 64 B and 1 MiB where measured.
std::size_t focus_latency(const Setup& setup) {
    return std::find(setup.sizes.begin(), setup.sizes.end(), 64) != setup.sizes.end() ? 64 : setup.sizes.front();
}
std::size_t focus_bandwidth(const Setup& setup) {
    return std::find(setup.sizes.begin(), setup.sizes.end(), std::size_t(1) << 20) != setup.sizes.end()
               ? (1u << 20)
               : setup.sizes.back();
}

constexpr double kTolerance = 0.10;  // a figure this far beyond its floor or ceiling is flagged

std::vector<Column> size_columns(const Setup& setup, Unit unit) {
    std::vector<Column> columns{"way", "CPUs"};
    for (auto size : setup.sizes) columns.emplace_back(byte_label(size), unit);
    columns.emplace_back("check");
    return columns;
}

// The floors measured in this run: the cache line's trip between the CPUs, memcpy.
void add_floors_table(Result& result, const Measured& m) {
    const Setup& setup = m.setup;
    const CacheLineHandoff* handoff = m.line ? &m.line->own : nullptr;
    const auto& memcpy_points = m.memcpy_points;
    const auto& ring_shape = m.ring_shape;
    const auto& pair_group = m.pair_group;
    const std::size_t focus = focus_bandwidth(setup);
    auto& ft = result.add_table("Floors, measured in this run",
                                {"floor", "where", "value", "what it bounds"});  // ns and B/s: text
    if (handoff) {
        ft.rows.push_back(
            {"cache-line hand-off, one way", fmt::format("CPUs {} and {} ({})", setup.home, setup.other, pair_group),
             format_value(handoff->one_way_ns, "ns"), "any message through shared memory between these CPUs"});
        ft.rows.push_back({"cache-line round trip", "", format_value(2 * handoff->one_way_ns, "ns"),
                           "a round trip between the two CPUs"});
        ft.rows.push_back({"cache-line floor, one way", "", format_value(m.line->floor_ns(), "ns"),
                           m.line->suite_min_ns ? "the checks below: the suite's fastest batch for this pair"
                                                : "the checks below: the fastest batch"});
        if (const auto drift = m.line->drift())
            result.add_metric("line_floor_drift", *drift, "fraction",
                              "this demo's fastest hand-off batch against the suite's floor for the pair, less 1");
        result
            .add_metric("handoff_one_way", handoff->one_way_ns, "ns",
                        "cache line handed between the two CPUs, one way (median batch)")
            .headline = true;
    }
    if (ring_shape) {
        ft.rows.push_back({"hand-off, a line per direction", "the same CPUs",
                           format_value(ring_shape->one_way_ns, "ns"),
                           "what two one-way rings can reach (the shared-memory ways' shape)"});
        result.add_metric("handoff_line_per_direction_one_way", ring_shape->one_way_ns, "ns",
                          "a token handed one way on its own line, the reply on another (the shape of two rings)");
    }
    for (const auto& p : memcpy_points)
        if (p.size == focus) {
            ft.rows.push_back({fmt::format("memcpy, {} messages", byte_label(p.size)),
                               fmt::format("CPU {}, one process", setup.home),
                               format_value(p.bytes_per_s.median, "B/s"), "a copy from one buffer to another"});
            result
                .add_metric("memcpy_" + byte_id(p.size), p.bytes_per_s, "B/s",
                            "memcpy within one process (the bandwidth floor)")
                .headline = true;
        }
    ft.note = handoff ? fmt::format(
                            "The hand-off: two threads spinning on one cache line, median batch / "
                            "2; the line-per-"
                            "direction row the same with the reply on a second line. The floor the checks use: {}. "
                            "memcpy: private "
                            "buffers, pages touched first; every size's figure is in the bandwidth table.",
                            m.line->describe())
                      : std::string(
                            "One CPU only: no cache-line floor (a hand-off needs two CPUs). memcpy: private buffers, "
                            "pages touched first.");
}

// Round trips: by size (flagged below the line's round trip), and at one size against the floor.
void add_latency_tables(Result& result, const DemoContext& ctx, const Measured& m) {
    const Setup& setup = m.setup;
    const auto& runs = m.runs;
    const double floor = m.line ? m.line->floor_ns() : 0.0;  // a fastest batch: a lower bound (0: none, one CPU)
    const std::size_t focus_latency = ipc_cost::focus_latency(setup);
    // A two-CPU round trip below two of the line's trips between the same CPUs is not what its
    // label says: flagged in 'check'.
    const double round_trip_floor = 2 * floor;
    auto& lt = result.add_table("Round trip by message size (median)", size_columns(setup, "ns"));
    for (const auto& r : runs) {
        if (!r.available || !r.intact) continue;
        std::vector<Cell> row{std::string(info(r.way).name), cpus_label(r.placement)};
        std::vector<std::string> below;
        for (auto size : setup.sizes) {
            const auto* p = point_at(r.latency, size);
            row.push_back(p ? Cell{p->round_trip_ns.median} : Cell{});
            if (p && round_trip_floor > 0 && !r.placement.same_cpu() &&
                p->round_trip_ns.median < round_trip_floor * (1 - kTolerance))
                below.push_back(byte_label(size));
        }
        row.emplace_back(below.empty() ? std::string()
                                       : fmt::format("implausible at {}: below the line's round trip {}",
                                                     fmt::join(below, ", "), format_value(round_trip_floor, "ns")));
        lt.rows.push_back(std::move(row));
    }
    lt.note = fmt::format(
        "One message of the size there and the same back, each round trip timed on CLOCK_MONOTONIC (overhead {} "
        "subtracted), after a warm-up; {}. '-': the way does not carry that size (eventfd: 8 B). 'check' flags a "
        "two-CPU figure more than 10% below two of the cache line's one-way trips between the same CPUs.",
        format_value(ctx.clock.read_overhead_ns, "ns"),
        m.budget.fixed_round_trips > 0 ? fmt::format("{} round trips per size", m.budget.fixed_round_trips)
                                       : fmt::format("as many round trips as fit {:.0f} ms per size, at least 5",
                                                     m.budget.latency_s_per_size * 1e3));

    auto& ft64 = result.add_table(
        fmt::format("Round trip of a {} message", byte_label(focus_latency)),
        {"way", "CPUs", {"median", "ns"}, {"p99", "ns"}, {"min", "ns"}, {"x cache-line floor", "x"}, "data"});
    for (const auto& r : runs) {
        if (!r.available) continue;
        // A way that cannot carry the size (eventfd: 8 B) shows its own size, labelled.
        const std::size_t size_here = std::min(focus_latency, info(r.way).max_message);
        const auto* p = point_at(r.latency, size_here);
        const bool floor_applies = floor > 0 && !r.placement.same_cpu();
        ft64.rows.push_back({size_here == focus_latency
                                 ? std::string(info(r.way).name)
                                 : fmt::format("{} ({})", info(r.way).name, byte_label(size_here)),
                             cpus_label(r.placement), p ? Cell{p->round_trip_ns.median} : Cell{},
                             p ? Cell{p->round_trip_ns.p99} : Cell{}, p ? Cell{p->round_trip_ns.min} : Cell{},
                             p && floor_applies ? Cell{p->round_trip_ns.median / (2 * floor)} : Cell{},
                             r.intact ? "intact, in order" : "damaged: " + r.check_detail});
        if (p)
            result
                .add_metric(
                    fmt::format("round_trip_{}_{}_{}", metric_name(r.way), place_id(r.placement), byte_id(p->size)),
                    p->round_trip_ns, "ns",
                    fmt::format("{} round trip, {} there and back, {}", info(r.way).name, byte_label(p->size),
                                r.placement.same_cpu() ? "one CPU" : "two CPUs"))
                .headline = true;
    }
    ft64.note =
        "x cache-line floor: the round trip against two hand-offs of one cache line between the same CPUs (two-CPU "
        "rows). "
        "On one CPU every round trip is two switches (the blocking ways) or two yields (shm-spin).";
}

// Bandwidth by size, memcpy's row the ceiling.
void add_bandwidth_table(Result& result, const Measured& m) {
    const Setup& setup = m.setup;
    const auto& runs = m.runs;
    const auto& memcpy_points = m.memcpy_points;
    const std::size_t focus_bandwidth = ipc_cost::focus_bandwidth(setup);
    auto& bt = result.add_table("Bandwidth by message size (median of the samples)", size_columns(setup, "B/s"));
    {
        std::vector<Cell> row{"memcpy (the ceiling)", fmt::format("{}, one process", setup.home)};
        for (auto size : setup.sizes) {
            const auto* p = point_at(memcpy_points, size);
            row.push_back(p ? Cell{p->bytes_per_s.median} : Cell{});
        }
        row.emplace_back("");
        bt.rows.push_back(std::move(row));
    }
    for (const auto& r : runs) {
        if (!r.available || !r.intact || r.bandwidth.empty()) continue;
        std::vector<Cell> row{std::string(info(r.way).name), cpus_label(r.placement)};
        std::vector<std::string> above;
        for (auto size : setup.sizes) {
            const auto* p = point_at(r.bandwidth, size);
            row.push_back(p ? Cell{p->bytes_per_s.median} : Cell{});
            // Every byte is copied twice (in and out), each copy by one CPU at most at memcpy's rate.
            const auto* copy = point_at(memcpy_points, size);
            if (p && copy && p->bytes_per_s.median > copy->bytes_per_s.median * (1 + kTolerance))
                above.push_back(byte_label(size));
        }
        row.emplace_back(above.empty() ? std::string()
                                       : fmt::format("implausible at {}: above memcpy's rate", fmt::join(above, ", ")));
        bt.rows.push_back(std::move(row));
        if (const auto* p = point_at(r.bandwidth, focus_bandwidth))
            result
                .add_metric(
                    fmt::format("bandwidth_{}_{}_{}", metric_name(r.way), place_id(r.placement), byte_id(p->size)),
                    p->bytes_per_s, "B/s",
                    fmt::format("{} streaming {} messages one way, {}", info(r.way).name, byte_label(p->size),
                                r.placement.same_cpu() ? "one CPU" : "two CPUs"))
                .headline = true;
    }
    bt.note = fmt::format(
        "Messages streamed one way, stamped and checked in order by the peer, one 8-byte acknowledgement at the end; "
        "{} samples of as many messages as fit {:.0f} ms (at least 4). Bytes moved from the sender's buffer into the "
        "receiver's: two copies for every way (into the kernel or the shared slot, and out), one for memcpy, so "
        "memcpy's rate at the same size is the ceiling: 'check' flags a way more than 10% above it. eventfd "
        "carries a counter, not a stream.",
        m.budget.bandwidth_samples, m.budget.bandwidth_s_per_sample * 1e3);
}

// The two benchmark targets of issue #10, judged against the floors (printed, not asserted).
std::vector<TargetOutcome> judge_targets(const Measured& m) {
    const WayRun* spin = find_run(m.runs, WayId::shm_spin, false);
    return {spin_against_floor(spin, m.line ? std::optional(m.line->own.one_way_ns) : std::nullopt,
                               m.ring_shape ? std::optional(m.ring_shape->one_way_ns) : std::nullopt),
            bandwidth_against_memcpy(spin, m.memcpy_points)};
}

void add_targets_table(Result& result, const std::vector<TargetOutcome>& targets) {
    auto& tt = result.add_table("Benchmark targets (printed, not asserted)", {"target", "this run", "met"});
    for (const auto& t : targets)
        tt.rows.push_back({t.target, t.measured, !t.met ? "not measured" : *t.met ? "yes" : "no"});
}

// How each way carried its messages, and the ways that could not run (and why).
void add_way_notes(Result& result, const DemoContext& ctx, const Measured& m) {
    const Setup& setup = m.setup;
    const auto& runs = m.runs;
    const std::string budget_note = fmt::format(
        "the time budget ({:.0f}% of the {:.0f} s timeout) ran out; a larger --timeout gives "
        "more, and on a loaded machine a round trip can take milliseconds",
        100 * kTimeBudgetShare, ctx.options.timeout_s);
    for (const auto& r : runs) {
        if (!r.available)
            result.notes.push_back(fmt::format("{} on {}: not measured: {}", info(r.way).name, cpus_label(r.placement),
                                               r.out_of_time ? budget_note : r.reason));
        else if (!r.intact)
            result.notes.push_back(fmt::format("{} on {}: data did not arrive intact ({}); its figures are left out",
                                               info(r.way).name, cpus_label(r.placement), r.check_detail));
        else if (!r.cut_short.empty())
            result.notes.push_back(fmt::format("{} on {}: {} not measured: {}", info(r.way).name,
                                               cpus_label(r.placement), r.cut_short, budget_note));
    }
    std::vector<std::string> hows;
    for (WayId way : setup.ways) {
        const WayRun* r = find_run(runs, way, true);
        if (!r) r = find_run(runs, way, false);
        if (r && !r->how.empty()) hows.push_back(fmt::format("{}: {}", info(way).name, r->how));
    }
    if (!hows.empty())
        result.notes.push_back(fmt::format("How the ways carry large messages: {}.", fmt::join(hows, "; ")));
    const bool all_intact =
        std::all_of(runs.begin(), runs.end(), [](const WayRun& r) { return !r.available || r.intact; });
    const auto checked = std::find_if(runs.begin(), runs.end(), [](const WayRun& r) { return r.available; });
    if (checked != runs.end() && all_intact)
        result.notes.push_back(
            fmt::format("Before timing, every way carried check messages both ways ({}).", checked->check_detail));
    if (setup.other == setup.home)
        result.notes.push_back(fmt::format(
            "Two-CPU placement not measured: {}.",
            ctx.env.affinity_cpus.size() < 2 ? "only one CPU is allowed to this process" : "--placement same"));
}

// The series, for the plots.
Json raw_series(const Measured& m, const std::vector<TargetOutcome>& targets) {
    Json lat = Json::array(), bws = Json::array(), mem = Json::array();
    for (const auto& r : m.runs) {
        for (const auto& p : r.latency)
            lat.push_back({{"way", info(r.way).name},
                           {"placement", place_id(r.placement)},
                           {"size", p.size},
                           {"median_ns", p.round_trip_ns.median},
                           {"p99_ns", p.round_trip_ns.p99}});
        for (const auto& p : r.bandwidth)
            bws.push_back({{"way", info(r.way).name},
                           {"placement", place_id(r.placement)},
                           {"size", p.size},
                           {"median_bytes_per_s", p.bytes_per_s.median}});
    }
    for (const auto& p : m.memcpy_points)
        mem.push_back({{"size", p.size}, {"median_bytes_per_s", p.bytes_per_s.median}});
    Json jtargets = Json::array();
    for (const auto& t : targets)
        jtargets.push_back(
            {{"target", t.target}, {"measured", t.measured}, {"met", t.met ? Json(*t.met) : Json(nullptr)}});
    return Json{
        {"cpus", {m.setup.home, m.setup.other}},
        {"handoff_one_way_ns", m.line ? Json(m.line->own.one_way_ns) : Json(nullptr)},
        {"line_floor_one_way_ns", m.line ? Json(m.line->floor_ns()) : Json(nullptr)},
        {"handoff_line_per_direction_one_way_ns", m.ring_shape ? Json(m.ring_shape->one_way_ns) : Json(nullptr)},
        {"latency", std::move(lat)},
        {"bandwidth", std::move(bws)},
        {"memcpy", std::move(mem)},
        {"targets", std::move(jtargets)}};
}

// One panel per placement, one line per way against the message size; `value` reads a way's
// points (empty: none), `floor` adds the reference lines of a placement.
template <class Points, class Floor>
plot::Plot ways_plot(const Measured& m, std::string what, std::string ylabel, std::string file, std::string caption,
                     Points points, Floor floor) {
    // A way keeps its colour in both plots: the colours go to every way with a point in either.
    std::vector<WayId> ways;
    for (const auto& r : m.runs)
        if ((!r.latency.empty() || !r.bandwidth.empty()) && std::find(ways.begin(), ways.end(), r.way) == ways.end())
            ways.push_back(r.way);
    plot::Plot plot{.file = std::move(file),
                    .caption = std::move(caption),
                    .title = fmt::format("Crossing between two processes: {} by way and message size (ipc_cost)", what),
                    .width = 11,
                    .height = 4.8,
                    .side_by_side = true,
                    .share_y = true};
    std::set<std::size_t> sizes;
    for (bool same : {true, false}) {
        plot::Panel panel{.title = fmt::format("{}, {}", what, same ? "both on one CPU" : "on two CPUs"),
                          .x = {.label = "message size (bytes)", .scale = plot::Scale::log2},
                          .y = {.label = same ? ylabel : "", .scale = plot::Scale::log},
                          .legend_size = 6.5};
        for (std::size_t i = 0; i < ways.size(); ++i) {
            std::set<std::size_t> way_sizes;
            plot::Series line{.colour = int(i), .marker = "o"};
            for (const auto& r : m.runs) {
                if (r.way != ways[i]) continue;
                for (const auto& [size, value] : points(r)) way_sizes.insert(size);
                if (r.placement.same_cpu() != same) continue;
                for (const auto& [size, value] : points(r)) {
                    line.x.push_back(double(size));
                    line.y.push_back(value);
                    sizes.insert(size);
                }
            }
            // eventfd carries one 8-byte counter: one size only
            if (way_sizes.empty()) continue;
            line.label = way_sizes.size() == 1 ? fmt::format("{} ({} B only)", info(ways[i]).name, *way_sizes.begin())
                                               : info(ways[i]).name;
            if (!line.x.empty()) panel.series.push_back(std::move(line));
        }
        floor(panel, same);
        plot.panels.push_back(std::move(panel));
    }
    for (auto& panel : plot.panels)
        plot::set_ticks(panel.x, sizes, [](std::size_t b) { return plot::size_label(double(b)); });
    return plot;
}

std::vector<std::pair<std::size_t, double>> latency_points(const WayRun& r) {
    std::vector<std::pair<std::size_t, double>> out;
    for (const auto& p : r.latency) out.emplace_back(p.size, p.round_trip_ns.median / 1e3);
    return out;
}

std::vector<std::pair<std::size_t, double>> bandwidth_points(const WayRun& r) {
    std::vector<std::pair<std::size_t, double>> out;
    for (const auto& p : r.bandwidth) out.emplace_back(p.size, p.bytes_per_s.median / double(1 << 30));
    return out;
}

void add_plots(Result& result, const Measured& m) {
    auto line_floors = [&](plot::Panel& panel, bool same) {
        if (same) return;
        if (m.line)
            panel.series.push_back({.mark = plot::Mark::hline,
                                    .label = "cache-line round trip (floor)",
                                    .y = {2 * m.line->floor_ns() / 1e3},
                                    .grey = true,
                                    .line = ":"});
        if (m.ring_shape)
            panel.series.push_back({.mark = plot::Mark::hline,
                                    .label = "a line per direction (shape of two rings)",
                                    .y = {2 * m.ring_shape->one_way_ns / 1e3},
                                    .grey = true,
                                    .line = "--"});
    };
    auto memcpy_floor = [&](plot::Panel& panel, bool) {
        if (m.memcpy_points.empty()) return;
        plot::Series ceiling{.label = "memcpy in one process (floor)", .colour = 7, .line = ":"};
        for (const auto& p : m.memcpy_points) {
            ceiling.x.push_back(double(p.size));
            ceiling.y.push_back(p.bytes_per_s.median / double(1 << 30));
        }
        panel.series.push_back(std::move(ceiling));
    };
    bool any_latency = false, any_bandwidth = false;
    for (const auto& r : m.runs) {
        any_latency = any_latency || !r.latency.empty();
        any_bandwidth = any_bandwidth || !r.bandwidth.empty();
    }
    if (!any_latency) return;
    result.plots.push_back(
        ways_plot(m, "round trip", "median round trip (µs, log scale)", "ipc_latency.png",
                  "Round trip between two processes by way and message size, beside the cache-line floor (ipc_cost).",
                  latency_points, line_floors));
    if (any_bandwidth)
        result.plots.push_back(
            ways_plot(m, "bandwidth", "GiB/s (log scale)", "ipc_bandwidth.png",
                      "Bandwidth between two processes by way and message size, beside memcpy (ipc_cost).",
                      bandwidth_points, memcpy_floor));
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const Measured& m) {
    add_floors_table(result, m);
    add_latency_tables(result, ctx, m);
    add_bandwidth_table(result, m);
    const auto targets = judge_targets(m);
    add_targets_table(result, targets);
    add_way_notes(result, ctx, m);
    result.config.repeat = m.budget.fixed_round_trips;
    result.raw = raw_series(m, targets);
    add_plots(result, m);
}

}  // namespace proclab::ipc_cost
