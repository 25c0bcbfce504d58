// ipc_cost: what crossing the process boundary costs through each door the OS provides, the
// evidence behind P3's "sanctioned way through" (docs/claims.md):
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
#include "ipc_cost/report.hpp"
#include "ipc_cost/targets.hpp"

#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"
#include "proclab/interference.hpp"
#include "proclab/topology.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace proclab::ipc_cost {

constexpr const char* kFullSizes = "8,64,512,4K,32K,256K,1M,4M,16M";
constexpr const char* kQuickSizes = "8,64,4K,64K,1M";

std::vector<DemoOption> options() {
    return {
        {.name = "--ways",
         .help = "Which ways: all, or a comma-separated list (like pipe,mq) of: pipe socketpair eventfd mq shm-spin "
                 "shm-semaphore shm-futex",
         .full = "all",
         .type_name = "LIST"},
        {.name = "--sizes",
         .help = "Message sizes, 1 B to 64M (K and M are KiB and MiB)",
         .full = kFullSizes,
         .quick = kQuickSizes,
         .type_name = "LIST"},
        {.name = "--placement",
         .help = "Both processes on one CPU, on two, or both",
         .full = "both",
         .check = CLI::IsMember({"same", "cross", "both"})},
        {.name = "--cpu-pair",
         .help = "The CPU pair A,B (A: the initiator, and the one-CPU placement)",
         .type_name = "A,B",
         .default_words = "the idlest CPU and another"},
    };
}

Setup read_setup(const DemoContext& ctx) {
    Setup s;
    const OptionValues& o = ctx.values;
    const auto ways = parse_ways(o.text("--ways"));
    if (!ways || ways->empty())
        throw UsageError(fmt::format(
            "--ways {}: not a list of ways (all, or pipe,socketpair,eventfd,mq,shm-spin,shm-semaphore,shm-futex)",
            o.text("--ways")));
    const std::string& size_list = o.text("--sizes");
    const auto sizes = parse_sizes(size_list);
    if (!sizes || sizes->empty())
        throw UsageError(fmt::format("--sizes {}: not a list of sizes from 1 to 64M (like 8,4K,1M)", size_list));
    s.ways = *ways;
    s.sizes = *sizes;
    const CpuPair pair = cpu_pair_option("--cpu-pair", o.text("--cpu-pair"), ctx.env.affinity_cpus);
    s.home = pair.home;
    s.other = pair.other;
    const std::string& placement = o.text("--placement");
    if (placement != "cross") s.placements.push_back({s.home, s.home});
    if (placement != "same" && s.other != s.home) s.placements.push_back({s.home, s.other});
    const bool quick = ctx.options.quick;
    s.budget.latency_s_per_size = quick ? 0.005 : 0.02;
    s.budget.bandwidth_s_per_sample = quick ? 0.006 : 0.02;
    s.budget.bandwidth_samples = quick ? 3 : 5;
    s.budget.fixed_round_trips = ctx.options.repeat.value_or(0);
    s.budget.clock_overhead_ns = ctx.clock.read_overhead_ns;
    s.handoff_batches = quick ? kFloorBatches : kFullFloorBatches;
    return s;
}

// The plan: the floors first, with nothing else of ours running; then every way at every
// placement and size, against a time budget; then the report (report.hpp).
Result run(const DemoContext& ctx) {
    Measured m;
    m.setup = read_setup(ctx);
    const Setup& setup = m.setup;
    m.budget = setup.budget;
    // New ways and sizes stop being started after this share of the timeout, so that a loaded
    // machine (a round trip of milliseconds) gets a shorter report instead of a killed demo.
    if (ctx.options.timeout_s > 0) m.budget.deadline = now_ns() + Nanos(kTimeBudgetShare * ctx.options.timeout_s * 1e9);

    if (setup.other != setup.home) {
        m.line = line_floor(setup.home, setup.other, setup.handoff_batches, ctx.clock.read_overhead_ns);
        m.ring_shape = measure_handoff(setup.home, setup.other, setup.handoff_batches, ctx.clock.read_overhead_ns,
                                       HandoffLines::one_per_direction);
        m.pair_group =
            std::string(to_string(classify(read_topology({setup.home, setup.other}), setup.home, setup.other)));
    }
    {
        ScopedPin pin(setup.home);
        m.memcpy_points = measure_memcpy(setup.sizes, m.budget);
    }
    for (const auto& placement : setup.placements)
        for (WayId way : setup.ways) m.runs.push_back(measure_way(way, placement, setup.sizes, m.budget));

    Result result;
    present(result, ctx, m);
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "ipc_cost",
        .title =
            "what crossing between processes costs: pipe, socket, eventfd, mq and shared memory against the floors",
        .default_timeout_s = 300,
        .repeat = RepeatSpec{.counts = "Round trips per message size",
                             .full = 0,
                             .quick = 0,
                             .default_text = "as many as fit 20 ms a size, 5 ms with --quick; at least 5"},
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::ipc_cost

PROCLAB_DEMO_MAIN(proclab::ipc_cost::spec)
