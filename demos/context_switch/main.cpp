// context_switch: what a switch costs, the price behind claims P2 and T1 of ../shared/seed/claims.md
// (the OS hands the CPU from one process, or thread, to the next). An instrument: it decides no
// claim. A token passed over a blocking pipe forces a switch at every hop whether or not the OS
// hands out time slices, so counting switches shows no slice; time_slicing shows the slices. This
// demo prices the switch.
//
// Method, the way lmbench (lat_ctx) and perf bench (sched pipe) do it (pingpong.hpp): two
// endpoints ping-pong a token. Endpoints are two processes or two threads of this process; the
// channel is a pair of pipes or a pair of futex words (in MAP_SHARED memory, so it works between
// processes too); both endpoints are pinned to one CPU (every hop is a switch: the pure switch
// cost) or to two different CPUs (every hop is a cross-CPU wake-up). Every round trip is timed
// on CLOCK_MONOTONIC after a warm-up, in several repetitions; the clock's overhead is subtracted.
//
// Overhead made explicit, as lmbench subtracts it: the same channel used by one thread alone (a
// write and a read of one byte on one pipe; a futex wake with no waiter), which costs the system
// calls but no switch. A hop is checked to be a switch: both endpoints' context-switch counts
// (/proc/.../status) are read before and after, giving switches per hop; a hop with fewer than
// 0.9 is shown for what it is and not priced as a switch.
//
// The working-set sweep (lat_ctx -s): each endpoint reads every cache line of its own N bytes
// when the token arrives. Less the channel and less the same pass with the cache warm, what is
// left is the switch plus the cache it cost: flat while both working sets fit in the caches,
// rising once the other side's pass has evicted this side's.
//
// Relation to perf bench: `perf bench sched pipe` prints usecs/op, where an op is a full round trip
// (two hops) between two processes (-T: threads), unpinned; `taskset -c 0 perf bench sched pipe`
// is the same-CPU pipe row here, round-trip column.
//
// The CPU pinned to is the allowed one that was idlest over 50 ms just before (from /proc/stat), so
// a busy loop elsewhere on the machine does not share it. The two-CPU rows name the pair's place in
// the topology and a cache line's hand-off between them (common/handoff.hpp), the floor under them.
//
// Caveats: in a virtual machine a wake-up of an idle virtual CPU goes through the hypervisor and
// is far slower than on bare metal; pinning both endpoints to one CPU avoids that. Frequency
// scaling and other load on the pinned CPU show up as spread.

#include "context_switch/pingpong.hpp"

#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"
#include "proclab/interference.hpp"
#include "proclab/metric_ids.hpp"
#include "proclab/render.hpp"
#include "proclab/sizes.hpp"
#include "proclab/topology.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace proclab::context_switch {

struct Options {
    std::string endpoints = "both";
    std::string channel = "both";
    std::string placement = "both";
    std::string cpus;         // "A,B"
    std::string working_set;  // empty: kFullSweep, or kQuickSweep with --quick
    int round_trips = 0;      // 0: --repeat, or 5000 (--quick 1000)
};
Options g_options;
constexpr const char* kFullSweep = "0,16K,64K,256K,1M,4M,8M";
constexpr const char* kQuickSweep = "0,64K,1M,8M";
constexpr std::size_t kMaxWorkingSet = std::size_t(64) << 20;

void add_options(CLI::App& app) {
    app.add_option("--endpoints", g_options.endpoints, "Two processes, two threads, or both")
        ->check(CLI::IsMember({"processes", "threads", "both"}))
        ->capture_default_str();
    app.add_option("--channel", g_options.channel, "The token travels through pipes, futex words, or both")
        ->check(CLI::IsMember({"pipe", "futex", "both"}))
        ->capture_default_str();
    app.add_option("--placement", g_options.placement, "Both endpoints on one CPU, on two, or both")
        ->check(CLI::IsMember({"same", "cross", "both"}))
        ->capture_default_str();
    app.add_option("--cpus", g_options.cpus, "The CPU pair A,B (A: the initiator, and the one-CPU placement; default: the idlest and another)")
        ->type_name("A,B");
    app.add_option("--working-set", g_options.working_set,
                   fmt::format("Bytes each endpoint reads when the token arrives, swept (0 to 64M; K, M = KiB, MiB); 0 alone: no sweep. "
                               "Default {}, --quick {}",
                               kFullSweep, kQuickSweep))
        ->type_name("LIST");
    app.add_option("--round-trips", g_options.round_trips, "Round trips per repetition (the same as --repeat; default 5000, --quick 1000)")
        ->check(CLI::Range(10, 10'000'000))
        ->type_name("N");
}

struct Setup {
    std::vector<Kind> kinds;
    std::vector<Channel> channels;
    std::vector<bool> placements;  // same CPU?
    std::vector<std::size_t> sweep;
    int home = 0, other = 0;
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    if (g_options.endpoints != "threads") s.kinds.push_back(Kind::processes);
    if (g_options.endpoints != "processes") s.kinds.push_back(Kind::threads);
    if (g_options.channel != "futex") s.channels.push_back(Channel::pipe);
    if (g_options.channel != "pipe") s.channels.push_back(Channel::futex);
    const std::string list = !g_options.working_set.empty() ? g_options.working_set : ctx.options.quick ? kQuickSweep : kFullSweep;
    const auto sweep = parse_byte_list(list, 0, kMaxWorkingSet);
    if (!sweep) throw UsageError(fmt::format("--working-set {}: not a list of sizes from 0 to 64M (like 0,64K,1M)", list));
    s.sweep = *sweep;
    const CpuPair pair = cpu_pair_option("--cpus", g_options.cpus, ctx.env.affinity_cpus);
    s.home = pair.home;
    s.other = pair.other;
    if (g_options.placement != "cross") s.placements.push_back(true);
    if (g_options.placement != "same" && s.other != s.home) s.placements.push_back(false);
    return s;
}

Result run(const DemoContext& ctx) {
    Result result;
    const Setup setup = read_setup(ctx);
    Counts counts;
    counts.round_trips = g_options.round_trips > 0 ? g_options.round_trips : ctx.repeat(5000, 1000);
    counts.repetitions = ctx.options.quick ? 3 : 5;  // repetitions of each configuration, for the spread
    counts.warmup = std::max(200, counts.round_trips / 10);
    result.config.repeat = counts.round_trips;

    // The floor under the two-CPU rows, measured first with nothing else of ours running.
    std::string pair_text;
    std::optional<CacheLineHandoff> handoff;
    if (setup.other != setup.home) {
        handoff = measure_handoff(setup.home, setup.other, ctx.repeat(200, 40), ctx.clock.read_overhead_ns);
        pair_text = fmt::format("{}, line hand-off {}",
                                to_string(classify(read_topology({setup.home, setup.other}), setup.home, setup.other)),
                                format_value(handoff->one_way_ns, "ns"));
        result.add_metric("handoff_one_way", handoff->one_way_ns, "ns", "a cache line handed between the two CPUs, one way (common/handoff.hpp)");
    }

    std::vector<Measurement> ms;
    for (bool same : setup.placements)
        for (Channel ch : setup.channels)
            for (Kind k : setup.kinds)
                ms.push_back(measure(Config{k, ch, same, setup.home, same ? setup.home : setup.other, 0}, counts, ctx.clock.read_overhead_ns));

    const std::optional<double> floor = handoff ? std::optional(handoff->one_way_ns) : std::nullopt;
    auto& t = result.add_table(
        "Ping-pong: one token handed back and forth",
        {"endpoints", "channel", "CPUs", {"round trip median", "ns"}, {"p99", "ns"}, {"hop", "ns"}, {"channel alone", "ns"},
         {"hop corrected", "ns"}, {"hop p99", "ns"}, {"switches/hop", "ratio"}, {"repetition medians, least", "ns"}, {"most", "ns"},
         "check"});
    for (const auto& m : ms) {
        const auto [lo, hi] = std::minmax_element(m.rep_medians.begin(), m.rep_medians.end());
        t.rows.push_back({name(m.config.kind), name(m.config.channel),
                          m.config.same_cpu ? fmt::format("{} (same)", m.config.cpu_initiator)
                                            : fmt::format("{} and {} ({})", m.config.cpu_initiator, m.config.cpu_echo, pair_text),
                          m.round_trip.median, m.round_trip.p99, m.hop(), m.overhead_per_hop,
                          m.is_switch() ? Cell{m.hop_corrected()} : Cell{"not a switch"}, m.round_trip.p99 / 2,
                          m.switches_per_hop >= 0 ? Cell{m.switches_per_hop} : Cell{}, *lo, *hi,
                          floor_check(m.hop(), m.config.same_cpu, floor)});
        const std::string tag = fmt::format("{}_{}_{}", name(m.config.kind), name(m.config.channel), m.config.same_cpu ? "same_cpu" : "cross_cpu");
        auto id = [&](std::string_view figure) { return metric_id::context_switch(figure, name(m.config.kind), name(m.config.channel), m.config.same_cpu); };
        result.add_metric(id(metric_id::kRoundTrip), m.round_trip, "ns", "token round trip (two hops)").headline =
            m.config.same_cpu && m.config.channel == Channel::pipe;
        if (m.is_switch())
            result.add_metric(id(metric_id::kHopCorrected), m.hop_corrected(), "ns", "half a round trip less the channel's own cost: one switch");
        else
            result.add_metric("hop_" + tag, m.hop(), "ns",
                              fmt::format("half a round trip; not a switch ({:.2f} switches per hop)", m.switches_per_hop));
        if (m.switches_per_hop >= 0) result.add_metric("switches_per_hop_" + tag, m.switches_per_hop, "ratio", "context switches per hop");
    }
    t.note = fmt::format(
        "{} repetitions of {} round trips after {} warm-up ones; clock overhead ({}) subtracted per sample. hop = round trip / 2; "
        "'channel alone' = the same system calls by one thread with nobody to switch to (lmbench's subtraction); hop p99 = "
        "round-trip p99 / 2. perf bench sched pipe's usecs/op is the round-trip column. 'not a switch': fewer than {:.1f} switches "
        "per hop were counted (the other side often had answered before this one slept), so the hop is a wake-up or a cache-line "
        "hand-off, not a context switch, and no switch cost is derived from it. Two-CPU rows: the pair's place in the topology "
        "(sysfs) and a cache line's one-way hand-off between them, the floor under any cross-CPU hop: a hop below it is flagged "
        "in 'check' as implausible.",
        counts.repetitions, counts.round_trips, counts.warmup, format_value(ctx.clock.read_overhead_ns, "ns"), kSwitchesPerHop);

    auto& r = result.add_table("Ratios", {"comparison", "channel", "placement", {"ratio", "x"}, "of"});
    for (Channel ch : setup.channels) {
        for (bool same : {true, false}) {
            const auto* p = find(ms, Kind::processes, ch, same);
            const auto* th = find(ms, Kind::threads, ch, same);
            if (p && th && p->is_switch() && th->is_switch() && p->hop_corrected() > 0)
                r.rows.push_back({"threads / processes", name(ch), same ? "same CPU" : "two CPUs", th->hop_corrected() / p->hop_corrected(),
                                  "corrected hops"});
        }
        for (Kind k : setup.kinds) {
            const auto* same = find(ms, k, ch, true);
            const auto* cross = find(ms, k, ch, false);
            if (same && cross && same->hop() > 0)
                r.rows.push_back({fmt::format("two CPUs / same CPU ({})", name(k)), name(ch), "-", cross->hop() / same->hop(), "raw hops"});
            if (cross && handoff && handoff->one_way_ns > 0)
                r.rows.push_back({fmt::format("two-CPU hop / line hand-off ({})", name(k)), name(ch), "two CPUs",
                                  cross->hop() / handoff->one_way_ns, "raw hop"});
        }
    }
    r.note = "A thread switch skips the address-space change (no page-table switch, no TLB flush with PCID), so it can be a little "
             "cheaper; a cross-CPU hop adds a wake-up of the other CPU, which in a virtual machine is costly: against the line hand-off, "
             "what is the kernel's and the hypervisor's, not the cache's.";
    if (ctx.env.affinity_cpus.size() < 2)
        result.notes.push_back(fmt::format("Cross-CPU placement not measured: only one CPU ({}) is allowed to this process.",
                                           format_cpu_list(ctx.env.affinity_cpus)));

    // The working-set sweep, on the first configuration chosen (processes, pipe, one CPU by default).
    const bool sweeping = setup.sweep.size() > 1 || (setup.sweep.size() == 1 && setup.sweep.front() > 0);
    if (sweeping) {
        const Kind k = setup.kinds.front();
        const Channel ch = setup.channels.front();
        const bool same = setup.placements.front();
        std::vector<Measurement> sweep;
        for (std::size_t bytes : setup.sweep) {
            if (bytes == 0)
                if (const auto* m0 = find(ms, k, ch, same)) {
                    sweep.push_back(*m0);
                    sweep.back().touch_alone = 0;
                    continue;
                }
            Counts c = counts;
            // Fewer round trips where each reads megabytes: about the same time per point.
            const double scale = bytes <= (64u << 10) ? 1.0 : double(64u << 10) / double(bytes);
            c.round_trips = std::max(20, int(counts.round_trips * scale));
            c.warmup = std::max(5, c.round_trips / 10);
            sweep.push_back(measure(Config{k, ch, same, setup.home, same ? setup.home : setup.other, bytes}, c, ctx.clock.read_overhead_ns));
        }
        const double base = sweep.front().switch_cost();
        auto& w = result.add_table(fmt::format("Switch cost against working set ({}, {}, {})", name(k), name(ch), same ? "one CPU" : "two CPUs"),
                                   {{"working set per endpoint", "bytes"}, {"round trips", "count"}, {"hop", "ns"}, {"channel alone", "ns"},
                                    {"warm pass alone", "ns"}, {"switch + cache lost", "ns"}, {"against the smallest", "x"},
                                    {"switches/hop", "ratio"}});
        Json series = Json::array();
        for (const auto& m : sweep) {
            w.rows.push_back({double(m.config.working_set), double(m.round_trips), m.hop(), m.overhead_per_hop, m.touch_alone,
                              m.is_switch() ? Cell{m.switch_cost()} : Cell{"not a switch"},
                              base > 0 && m.is_switch() ? Cell{m.switch_cost() / base} : Cell{},
                              m.switches_per_hop >= 0 ? Cell{m.switches_per_hop} : Cell{}});
            result.add_metric("switch_cost_ws_" + byte_id(m.config.working_set), m.switch_cost(), "ns",
                              fmt::format("one hop less the channel and a warm pass over {}: the switch and the cache it cost",
                                          byte_label(m.config.working_set)))
                .headline = m.config.working_set == 0 || m.config.working_set == (1u << 20);
            series.push_back({{"working_set", m.config.working_set}, {"hop_ns", m.hop()}, {"channel_alone_ns", m.overhead_per_hop},
                              {"touch_alone_ns", m.touch_alone}, {"switch_cost_ns", m.switch_cost()}, {"switches_per_hop", m.switches_per_hop}});
        }
        w.note = "lmbench lat_ctx -s: each endpoint reads every cache line of its own working set when the token arrives. 'switch + "
                 "cache lost' = hop - channel alone - the same pass with the cache warm; it rises once the two working sets no longer "
                 "fit in the caches together (each switch finds its data evicted by the other's pass). Past the last-level cache even the warm pass streams from memory, so the "
                 "difference falls again: a switch cannot lose what the cache could not keep. Fewer round trips at the larger sizes.";
        result.raw = Json{{"working_set_sweep", {{"endpoints", name(k)}, {"channel", name(ch)}, {"same_cpu", same}, {"points", std::move(series)}}}};
    }

    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "context_switch";
    s.title = "the cost of a context switch (the price of P2 and T1): processes vs threads, pipe vs futex, one CPU vs two, and the cache it costs";
    s.claims = {};
    s.default_timeout_s = 180;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::context_switch

PROCLAB_DEMO_MAIN(proclab::context_switch::spec)
