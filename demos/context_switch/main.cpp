// context_switch: what a switch costs, the price behind claims P2 and T1 of docs/claims.md
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
#include "context_switch/report.hpp"

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

namespace proclab::context_switch {

constexpr const char* kFullSweep = "0,16K,64K,256K,1M,4M,8M";
constexpr const char* kQuickSweep = "0,64K,1M,8M";
constexpr std::size_t kMaxWorkingSet = std::size_t(64) << 20;

std::vector<DemoOption> options() {
    return {
        {.name = "--endpoints",
         .help = "Two processes, two threads, or both",
         .full = "both",
         .check = CLI::IsMember({"processes", "threads", "both"})},
        {.name = "--channel",
         .help = "The token travels through pipes, futex words, or both",
         .full = "both",
         .check = CLI::IsMember({"pipe", "futex", "both"})},
        {.name = "--placement",
         .help = "Both endpoints on one CPU, on two, or both",
         .full = "both",
         .check = CLI::IsMember({"same", "cross", "both"})},
        {.name = "--cpu-pair",
         .help = "The CPU pair A,B (A: the initiator, and the one-CPU placement)",
         .type_name = "A,B",
         .default_words = "the idlest CPU and another"},
        {.name = "--working-set",
         .help =
             "Bytes each endpoint reads when the token arrives, swept (0 to 64M; K, M = KiB, MiB); 0 alone: no sweep",
         .full = kFullSweep,
         .quick = kQuickSweep,
         .type_name = "LIST"},
    };
}

struct Setup {
    std::vector<Kind> kinds;
    std::vector<Channel> channels;
    std::vector<bool> placements;  // same CPU?
    std::vector<std::size_t> sweep;
    int home = 0, other = 0;
    int repetitions = 0;      // of each configuration, for the spread
    int handoff_batches = 0;  // of the cache-line floor
};

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    const OptionValues& o = ctx.values;
    if (o.text("--endpoints") != "threads") s.kinds.push_back(Kind::processes);
    if (o.text("--endpoints") != "processes") s.kinds.push_back(Kind::threads);
    if (o.text("--channel") != "futex") s.channels.push_back(Channel::pipe);
    if (o.text("--channel") != "pipe") s.channels.push_back(Channel::futex);
    const std::string& list = o.text("--working-set");
    const auto sweep = parse_byte_list(list, 0, kMaxWorkingSet);
    if (!sweep)
        throw UsageError(fmt::format("--working-set {}: not a list of sizes from 0 to 64M (like 0,64K,1M)", list));
    s.sweep = *sweep;
    const CpuPair pair = cpu_pair_option("--cpu-pair", o.text("--cpu-pair"), ctx.env.affinity_cpus);
    s.home = pair.home;
    s.other = pair.other;
    if (o.text("--placement") != "cross") s.placements.push_back(true);
    if (o.text("--placement") != "same" && s.other != s.home) s.placements.push_back(false);
    s.repetitions = ctx.options.quick ? 3 : 5;
    s.handoff_batches = ctx.options.quick ? kFloorBatches : kFullFloorBatches;
    return s;
}

Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    Measured m;
    m.kinds = setup.kinds;
    m.channels = setup.channels;
    m.counts.round_trips = std::max(10, ctx.repeat());
    m.counts.repetitions = setup.repetitions;
    m.counts.warmup = std::max(200, m.counts.round_trips / 10);
    const double overhead = ctx.clock.read_overhead_ns;

    // The floor under the two-CPU rows, measured first with nothing else of ours running.
    if (setup.other != setup.home) {
        m.line = line_floor(setup.home, setup.other, setup.handoff_batches, overhead);
        m.pair_text =
            fmt::format("{}, line hand-off {}",
                        to_string(classify(read_topology({setup.home, setup.other}), setup.home, setup.other)),
                        format_value(m.line->own.one_way_ns, "ns"));
    }
    for (bool same : setup.placements)
        for (Channel ch : setup.channels)
            for (Kind k : setup.kinds)
                m.pingpong.push_back(
                    measure(Config{k, ch, same, setup.home, same ? setup.home : setup.other, 0}, m.counts, overhead));

    // The working-set sweep, on the first configuration chosen (processes, pipe, one CPU by default).
    const bool sweeping = setup.sweep.size() > 1 || (setup.sweep.size() == 1 && setup.sweep.front() > 0);
    if (sweeping) {
        const Kind k = setup.kinds.front();
        const Channel ch = setup.channels.front();
        const bool same = setup.placements.front();
        for (std::size_t bytes : setup.sweep) {
            if (bytes == 0)
                if (const auto* m0 = find(m.pingpong, k, ch, same)) {
                    m.sweep.push_back(*m0);
                    m.sweep.back().touch_alone = 0;
                    continue;
                }
            Counts c = m.counts;
            // Fewer round trips where each reads megabytes: about the same time per point.
            const double scale = bytes <= (64u << 10) ? 1.0 : double(64u << 10) / double(bytes);
            c.round_trips = std::max(20, int(m.counts.round_trips * scale));
            c.warmup = std::max(5, c.round_trips / 10);
            m.sweep.push_back(
                measure(Config{k, ch, same, setup.home, same ? setup.home : setup.other, bytes}, c, overhead));
        }
    }
    Result result;
    present(result, ctx, m);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "context_switch",
        .title =
            "the cost of a context switch (the price of P2 and T1): processes vs threads, pipe vs futex, one CPU vs "
            "two, and the cache it costs",
        .default_timeout_s = 180,
        .repeat = RepeatSpec{.counts = "Round trips in each of the 5 repetitions of a configuration (3 with --quick)",
                             .full = 5000,
                             .quick = 1000},
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::context_switch

PROCLAB_DEMO_MAIN(proclab::context_switch::spec)
