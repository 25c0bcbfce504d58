// ipc_cost: what crossing the process boundary costs through each door the OS provides, the
// evidence behind P3's "sanctioned way through" (../shared/seed/claims.md):
//
//   P3  Processes have no access to each other's address spaces; what crosses goes through the
//       kernel (pipe, socket, eventfd, message queue) or through memory both map on purpose.
//
// An instrument: it decides no claim, it measures (after lmbench's lat_pipe/lat_unix/bw_pipe and
// ipc-bench). Between the parent and a forked peer, for each way (ways.hpp): latency as a round
// trip of one message there and back, timed one by one, median and p99; bandwidth as a stream of
// messages one way with one acknowledgement at the end, several samples. By message size (8 B to
// 16 MiB by default), with both processes pinned to one CPU and to two. Every way first carries
// check messages both ways, compared byte for byte, and the stream's messages are stamped, so a
// figure is never reported for data that did not arrive intact and in order.
//
// The floors, measured in the same run: a cache-line hand-off between the same two CPUs (the
// least any shared-memory message can cost) and memcpy within one process (the most any copy
// can move). The two benchmark targets of issue #10 are judged against them and printed
// (targets.hpp); they are not claims and nothing asserts them.
//
// Caveats: in a virtual machine a blocking wake-up of another vCPU goes through the hypervisor,
// so the blocking ways on two CPUs look worse than on bare metal. Spinning on one CPU cannot work;
// shm-spin yields after 256 turns, so on one CPU it measures sched_yield hand-offs. Pipe and
// socket buffers (64 KiB, ~200 KiB) and the mq message limit (8 KiB by default) cut large
// messages into pieces: that is part of what those ways cost.

#include "ipc_cost/experiments.hpp"
#include "ipc_cost/targets.hpp"

#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/topology.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace proclab::ipc_cost {

struct Options {
    std::string ways = "all";
    std::string sizes;  // empty: kFullSizes, or kQuickSizes with --quick
    std::string placement = "both";
    std::string cpus;  // "A,B": the initiator's CPU (and the one-CPU placement's) and the peer's
    int round_trips = 0;
};
Options g_options;
constexpr const char* kFullSizes = "8,64,512,4K,32K,256K,1M,4M,16M";
constexpr const char* kQuickSizes = "8,64,4K,64K,1M";
constexpr double kTimeBudgetShare = 0.6;  // of --timeout: after it no new way or size is started

void add_options(CLI::App& app) {
    app.add_option("--ways", g_options.ways,
                   "Which ways: all, or a list of pipe,socketpair,eventfd,mq,shm-spin,shm-semaphore,shm-futex")
        ->type_name("LIST")
        ->capture_default_str();
    app.add_option("--sizes", g_options.sizes,
                   fmt::format("Message sizes, 1 B to 64M (K and M are KiB and MiB); default {}, --quick {}", kFullSizes, kQuickSizes))
        ->type_name("LIST");
    app.add_option("--placement", g_options.placement, "Both processes on one CPU, on two, or both")
        ->check(CLI::IsMember({"same", "cross", "both"}))
        ->capture_default_str();
    app.add_option("--cpus", g_options.cpus, "The CPU pair A,B (A: the initiator, and the one-CPU placement; default: the idlest and another)")
        ->type_name("A,B");
    app.add_option("--round-trips", g_options.round_trips, "Round trips per size (default: as many as fit ~30 ms, --quick 5 ms; at least 5)")
        ->check(CLI::Range(1, 10'000'000));
}

struct Setup {
    std::vector<WayId> ways;
    std::vector<std::size_t> sizes;
    std::vector<Placement> placements;
    int home = 0, other = 0;
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    const auto ways = parse_ways(g_options.ways);
    if (!ways || ways->empty()) throw UsageError(fmt::format("--ways {}: not a list of ways (all, or pipe,socketpair,eventfd,mq,shm-spin,shm-semaphore,shm-futex)", g_options.ways));
    const std::string size_list = !g_options.sizes.empty() ? g_options.sizes : ctx.options.quick ? kQuickSizes : kFullSizes;
    const auto sizes = parse_sizes(size_list);
    if (!sizes || sizes->empty()) throw UsageError(fmt::format("--sizes {}: not a list of sizes from 1 to 64M (like 8,4K,1M)", size_list));
    s.ways = *ways;
    s.sizes = *sizes;
    const CpuPair pair = cpu_pair_option("--cpus", g_options.cpus, ctx.env.affinity_cpus);
    s.home = pair.home;
    s.other = pair.other;
    if (g_options.placement != "cross") s.placements.push_back({s.home, s.home});
    if (g_options.placement != "same" && s.other != s.home) s.placements.push_back({s.home, s.other});
    return s;
}

std::string cpus_label(const Placement& p) {
    return p.same_cpu() ? fmt::format("{} (same)", p.initiator_cpu) : fmt::format("{} and {}", p.initiator_cpu, p.responder_cpu);
}
std::string place_id(const Placement& p) { return p.same_cpu() ? "same_cpu" : "two_cpus"; }

const WayRun* find_run(const std::vector<WayRun>& runs, WayId way, bool same_cpu) {
    for (const auto& r : runs)
        if (r.way == way && r.placement.same_cpu() == same_cpu && r.available) return &r;
    return nullptr;
}

Result run(const DemoContext& ctx) {
    Result result;
    const Setup setup = read_setup(ctx);
    const bool quick = ctx.options.quick;
    Budget budget;
    budget.latency_s_per_size = quick ? 0.005 : 0.02;
    budget.bandwidth_s_per_sample = quick ? 0.006 : 0.02;
    budget.bandwidth_samples = quick ? 3 : 5;
    budget.fixed_round_trips = g_options.round_trips;
    budget.clock_overhead_ns = ctx.clock.read_overhead_ns;
    // New ways and sizes stop being started after this share of the timeout, so that a loaded
    // machine (a round trip of milliseconds) gets a shorter report instead of a killed demo.
    if (ctx.options.timeout_s > 0) budget.deadline = now_ns() + Nanos(kTimeBudgetShare * ctx.options.timeout_s * 1e9);
    result.config.repeat = g_options.round_trips;

    // The floors first, with nothing else of ours running.
    std::optional<CacheLineHandoff> handoff, ring_shape;
    std::string pair_group;
    if (setup.other != setup.home) {
        handoff = measure_handoff(setup.home, setup.other, ctx.repeat(200, 40), ctx.clock.read_overhead_ns);
        ring_shape = measure_handoff(setup.home, setup.other, ctx.repeat(200, 40), ctx.clock.read_overhead_ns, HandoffLines::one_per_direction);
        pair_group = std::string(to_string(classify(read_topology({setup.home, setup.other}), setup.home, setup.other)));
    }
    std::vector<BandwidthPoint> memcpy_points;
    {
        ScopedPin pin(setup.home);
        memcpy_points = measure_memcpy(setup.sizes, budget);
    }

    std::vector<WayRun> runs;
    for (const auto& placement : setup.placements)
        for (WayId way : setup.ways) runs.push_back(measure_way(way, placement, setup.sizes, budget));

    const std::size_t focus_latency = std::find(setup.sizes.begin(), setup.sizes.end(), 64) != setup.sizes.end() ? 64 : setup.sizes.front();
    const std::size_t focus_bandwidth =
        std::find(setup.sizes.begin(), setup.sizes.end(), std::size_t(1) << 20) != setup.sizes.end() ? (1u << 20) : setup.sizes.back();

    // Floors.
    auto& ft = result.add_table("Floors, measured in this run", {"floor", "where", "value", "what it bounds"});  // ns and B/s: text
    if (handoff) {
        ft.rows.push_back({"cache-line hand-off, one way", fmt::format("CPUs {} and {} ({})", setup.home, setup.other, pair_group),
                           format_value(handoff->one_way_ns, "ns"), "any message through shared memory between these CPUs"});
        ft.rows.push_back({"cache-line round trip", "", format_value(2 * handoff->one_way_ns, "ns"), "a round trip between the two CPUs"});
        result.add_metric("handoff_one_way", handoff->one_way_ns, "ns", "cache line handed between the two CPUs, one way (the floor)").headline = true;
    }
    if (ring_shape) {
        ft.rows.push_back({"hand-off, a line per direction", "the same CPUs", format_value(ring_shape->one_way_ns, "ns"),
                           "what two one-way rings can reach (the shared-memory ways' shape)"});
        result.add_metric("handoff_line_per_direction_one_way", ring_shape->one_way_ns, "ns",
                          "a token handed one way on its own line, the reply on another (the shape of two rings)");
    }
    for (const auto& m : memcpy_points)
        if (m.size == focus_bandwidth) {
            ft.rows.push_back({fmt::format("memcpy, {} messages", byte_label(m.size)), fmt::format("CPU {}, one process", setup.home),
                               format_value(m.bytes_per_s.median, "B/s"), "a copy from one buffer to another"});
            result.add_metric("memcpy_" + byte_id(m.size), m.bytes_per_s, "B/s", "memcpy within one process (the bandwidth floor)").headline = true;
        }
    ft.note = handoff ? "The hand-off: two threads spinning on one cache line (common/handoff.hpp), median batch / 2; the line-per-"
                        "direction row the same with the reply on a second line. memcpy: private buffers, pages touched first; every "
                        "size's figure is in the bandwidth table."
                      : "One CPU only: no cache-line floor (a hand-off needs two CPUs). memcpy: private buffers, pages touched first.";

    // Latency by size. A two-CPU round trip below two of the line's trips between the same CPUs, or
    // a bandwidth above memcpy's at the same size, is not what its label says: flagged in 'check'.
    constexpr double kTolerance = 0.10;
    const double round_trip_floor = handoff ? 2 * handoff->one_way_ns : 0.0;  // 0: none (one CPU)
    auto columns_in = [&](const char* unit) {
        std::vector<Column> columns{"way", "CPUs"};
        for (auto size : setup.sizes) columns.emplace_back(byte_label(size), unit);
        columns.emplace_back("check");
        return columns;
    };
    auto& lt = result.add_table("Round trip by message size (median)", columns_in("ns"));
    for (const auto& r : runs) {
        if (!r.available || !r.intact) continue;
        std::vector<Cell> row{std::string(info(r.way).name), cpus_label(r.placement)};
        std::vector<std::string> below;
        for (auto size : setup.sizes) {
            const auto* p = point_at(r.latency, size);
            row.push_back(p ? Cell{p->round_trip_ns.median} : Cell{});
            if (p && round_trip_floor > 0 && !r.placement.same_cpu() && p->round_trip_ns.median < round_trip_floor * (1 - kTolerance))
                below.push_back(byte_label(size));
        }
        row.emplace_back(below.empty() ? std::string()
                                       : fmt::format("implausible at {}: below the line's round trip {}", fmt::join(below, ", "),
                                                     format_value(round_trip_floor, "ns")));
        lt.rows.push_back(std::move(row));
    }
    lt.note = fmt::format("One message of the size there and the same back, each round trip timed on CLOCK_MONOTONIC (overhead {} "
                          "subtracted), after a warm-up; {}. '-': the way does not carry that size (eventfd: 8 B). 'check' flags a "
                          "two-CPU figure more than 10% below two of the cache line's one-way trips between the same CPUs.",
                          format_value(ctx.clock.read_overhead_ns, "ns"),
                          g_options.round_trips > 0 ? fmt::format("{} round trips per size", g_options.round_trips)
                                                    : fmt::format("as many round trips as fit {:.0f} ms per size, at least 5", budget.latency_s_per_size * 1e3));

    auto& ft64 = result.add_table(fmt::format("Round trip of a {} message", byte_label(focus_latency)),
                                  {"way", "CPUs", {"median", "ns"}, {"p99", "ns"}, {"min", "ns"}, {"x cache-line floor", "x"}, "data"});
    for (const auto& r : runs) {
        if (!r.available) continue;
        // A way that cannot carry the size (eventfd: 8 B) shows its own size, labelled.
        const std::size_t size_here = std::min(focus_latency, info(r.way).max_message);
        const auto* p = point_at(r.latency, size_here);
        const bool floor_applies = handoff && !r.placement.same_cpu();
        ft64.rows.push_back({size_here == focus_latency ? std::string(info(r.way).name) : fmt::format("{} ({})", info(r.way).name, byte_label(size_here)),
                             cpus_label(r.placement), p ? Cell{p->round_trip_ns.median} : Cell{}, p ? Cell{p->round_trip_ns.p99} : Cell{},
                             p ? Cell{p->round_trip_ns.min} : Cell{},
                             p && floor_applies ? Cell{p->round_trip_ns.median / (2 * handoff->one_way_ns)} : Cell{},
                             r.intact ? "intact, in order" : "damaged: " + r.check_detail});
        if (p)
            result.add_metric(fmt::format("round_trip_{}_{}_{}", metric_name(r.way), place_id(r.placement), byte_id(p->size)), p->round_trip_ns, "ns",
                              fmt::format("{} round trip, {} there and back, {}", info(r.way).name, byte_label(p->size),
                                          r.placement.same_cpu() ? "one CPU" : "two CPUs"))
                .headline = true;
    }
    ft64.note = "x cache-line floor: the round trip against two hand-offs of one cache line between the same CPUs (two-CPU rows). "
                "On one CPU every round trip is two switches (the blocking ways) or two yields (shm-spin).";

    // Bandwidth by size.
    auto& bt = result.add_table("Bandwidth by message size (median of the samples)", columns_in("B/s"));
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
            const auto* m = point_at(memcpy_points, size);
            if (p && m && p->bytes_per_s.median > m->bytes_per_s.median * (1 + kTolerance)) above.push_back(byte_label(size));
        }
        row.emplace_back(above.empty() ? std::string() : fmt::format("implausible at {}: above memcpy's rate", fmt::join(above, ", ")));
        bt.rows.push_back(std::move(row));
        if (const auto* p = point_at(r.bandwidth, focus_bandwidth))
            result.add_metric(fmt::format("bandwidth_{}_{}_{}", metric_name(r.way), place_id(r.placement), byte_id(p->size)), p->bytes_per_s,
                              "B/s", fmt::format("{} streaming {} messages one way, {}", info(r.way).name, byte_label(p->size),
                                                 r.placement.same_cpu() ? "one CPU" : "two CPUs"))
                .headline = true;
    }
    bt.note = fmt::format("Messages streamed one way, stamped and checked in order by the peer, one 8-byte acknowledgement at the end; "
                          "{} samples of as many messages as fit {:.0f} ms (at least 4). Bytes moved from the sender's buffer into the "
                          "receiver's: two copies for every way (into the kernel or the shared slot, and out), one for memcpy, so "
                          "memcpy's rate at the same size is the ceiling: 'check' flags a way more than 10% above it. eventfd "
                          "carries a counter, not a stream.",
                          budget.bandwidth_samples, budget.bandwidth_s_per_sample * 1e3);

    // Targets.
    const auto spin = spin_against_floor(find_run(runs, WayId::shm_spin, false), handoff ? std::optional(handoff->one_way_ns) : std::nullopt,
                                         ring_shape ? std::optional(ring_shape->one_way_ns) : std::nullopt);
    const auto bw = bandwidth_against_memcpy(find_run(runs, WayId::shm_spin, false), memcpy_points);
    auto& tt = result.add_table("Benchmark targets (printed, not asserted)", {"target", "this run", "met"});
    for (const auto* t : {&spin, &bw}) tt.rows.push_back({t->target, t->measured, !t->met ? "not measured" : *t->met ? "yes" : "no"});

    // How each way carried its messages, and the ways that could not run.
    const std::string budget_note = fmt::format("the time budget ({:.0f}% of the {:.0f} s timeout) ran out; a larger --timeout gives "
                                                "more, and on a loaded machine a round trip can take milliseconds",
                                                100 * kTimeBudgetShare, ctx.options.timeout_s);
    for (const auto& r : runs) {
        if (!r.available)
            result.notes.push_back(fmt::format("{} on {}: not measured: {}", info(r.way).name, cpus_label(r.placement),
                                               r.out_of_time ? budget_note : r.reason));
        else if (!r.intact)
            result.notes.push_back(fmt::format("{} on {}: data did not arrive intact ({}); its figures are left out", info(r.way).name,
                                               cpus_label(r.placement), r.check_detail));
        else if (!r.cut_short.empty())
            result.notes.push_back(fmt::format("{} on {}: {} not measured: {}", info(r.way).name, cpus_label(r.placement), r.cut_short,
                                               budget_note));
    }
    std::vector<std::string> hows;
    for (WayId way : setup.ways) {
        const WayRun* r = find_run(runs, way, true);
        if (!r) r = find_run(runs, way, false);
        if (r && !r->how.empty()) hows.push_back(fmt::format("{}: {}", info(way).name, r->how));
    }
    if (!hows.empty()) result.notes.push_back(fmt::format("How the ways carry large messages: {}.", fmt::join(hows, "; ")));
    const bool all_intact = std::all_of(runs.begin(), runs.end(), [](const WayRun& r) { return !r.available || r.intact; });
    const auto checked = std::find_if(runs.begin(), runs.end(), [](const WayRun& r) { return r.available; });
    if (checked != runs.end() && all_intact)
        result.notes.push_back(fmt::format("Before timing, every way carried check messages both ways ({}).", checked->check_detail));
    if (setup.other == setup.home)
        result.notes.push_back(fmt::format("Two-CPU placement not measured: {}.", ctx.env.affinity_cpus.size() < 2
                                                                                       ? "only one CPU is allowed to this process"
                                                                                       : "--placement same"));

    // The series, for the plots.
    Json lat = Json::array(), bws = Json::array(), mem = Json::array();
    for (const auto& r : runs) {
        for (const auto& p : r.latency)
            lat.push_back({{"way", info(r.way).name}, {"placement", place_id(r.placement)}, {"size", p.size},
                           {"median_ns", p.round_trip_ns.median}, {"p99_ns", p.round_trip_ns.p99}});
        for (const auto& p : r.bandwidth)
            bws.push_back({{"way", info(r.way).name}, {"placement", place_id(r.placement)}, {"size", p.size},
                           {"median_bytes_per_s", p.bytes_per_s.median}});
    }
    for (const auto& p : memcpy_points) mem.push_back({{"size", p.size}, {"median_bytes_per_s", p.bytes_per_s.median}});
    Json targets = Json::array();
    for (const auto* t : {&spin, &bw})
        targets.push_back({{"target", t->target}, {"measured", t->measured}, {"met", t->met ? Json(*t->met) : Json(nullptr)}});
    result.raw = Json{{"cpus", {setup.home, setup.other}},
                           {"handoff_one_way_ns", handoff ? Json(handoff->one_way_ns) : Json(nullptr)},
                           {"handoff_line_per_direction_one_way_ns", ring_shape ? Json(ring_shape->one_way_ns) : Json(nullptr)},
                           {"latency", std::move(lat)},
                           {"bandwidth", std::move(bws)},
                           {"memcpy", std::move(mem)},
                           {"targets", std::move(targets)}};
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "ipc_cost";
    s.title = "what crossing between processes costs: pipe, socket, eventfd, mq and shared memory against the floors";
    s.claims = {};
    s.default_timeout_s = 300;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::ipc_cost

PROCLAB_DEMO_MAIN(proclab::ipc_cost::spec)
