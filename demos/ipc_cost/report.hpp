// ipc_cost's report: the floors, the round-trip and bandwidth tables (each figure checked against
// its floor or ceiling), the benchmark targets, the notes on each way and the raw series, all
// rendered from what was measured. Nothing here measures.
#pragma once

#include "ipc_cost/experiments.hpp"

#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::ipc_cost {

inline constexpr double kTimeBudgetShare = 0.6;  // of --timeout: after it no new way or size is started

// What was asked for: the ways, the sizes, where the two processes run.
struct Setup {
    std::vector<WayId> ways;
    std::vector<std::size_t> sizes;
    std::vector<Placement> placements;
    int home = 0, other = 0;
    Budget budget;            // time per size and per sample (the deadline is set when the run starts)
    int handoff_batches = 0;  // of the cache-line floors
};

struct Measured {
    Setup setup;
    Budget budget;
    std::optional<LineFloor>
        line;  // the line's trip between home and other: the suite's floor and this demo's own (none on one CPU)
    std::optional<CacheLineHandoff> ring_shape;  // the same, a line per direction
    std::string pair_group;                      // how the two CPUs relate (topology)
    std::vector<BandwidthPoint> memcpy_points;   // the bandwidth ceiling, by size
    std::vector<WayRun> runs;                    // every way at every placement
};

// Adds the tables, notes, metrics and raw series to `result`.
void present(Result& result, const DemoContext& ctx, const Measured& m);

}  // namespace proclab::ipc_cost
