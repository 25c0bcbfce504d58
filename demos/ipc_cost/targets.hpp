// ipc_cost's pure parts, unit-tested in tests/unit/test_ipc_cost.cpp: the size and way lists of
// its options, and the two benchmark targets of issue #10, judged from the run's measurements.
// The targets are printed, never asserted: they say how close the sanctioned way through (shared
// memory, P3) comes to the machine's own floors.
#pragma once

#include "ipc_cost/experiments.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::ipc_cost {

inline constexpr std::size_t kMinSize = 1;
inline constexpr std::size_t kMaxSize = 64u << 20;

// "8,64,4K,1M" (proclab/sizes.hpp), each within [kMinSize, kMaxSize].
std::optional<std::vector<std::size_t>> parse_sizes(std::string_view text);
// "pipe,shm-spin": nullopt on an unknown name. "all": every way.
std::optional<std::vector<WayId>> parse_ways(std::string_view text);

struct TargetOutcome {
    std::string target;       // the rule, in words
    std::string measured;     // what this run measured, with numbers
    std::optional<bool> met;  // nullopt: not measured (the reason is in `measured`)
};

inline constexpr double kSpinFloorRatio = 2.0;               // shm spin hand-off <= 2x the cache-line floor
inline constexpr double kShmBandwidthShare = 0.8;            // shm bandwidth >= 80% of memcpy ...
inline constexpr std::size_t kBandwidthFromSize = 1u << 20;  // ... for messages of 1 MiB and more

// The smallest message's spinning round trip between the two CPUs against two hand-offs of one
// cache line between the same CPUs. Where the hand-off with a line per direction was measured too,
// the measured text adds the ratio to it: how much of the gap is the two rings' shape (judged
// against the one-line floor all the same, as the target is stated).
TargetOutcome spin_against_floor(const WayRun* shm_spin_two_cpus, std::optional<double> floor_one_way_ns,
                                 std::optional<double> line_per_direction_one_way_ns = std::nullopt);
// Shared-memory streaming bandwidth between the two CPUs against memcpy within one process, for
// every measured size of 1 MiB and more: met when the lowest share is at least 80%.
TargetOutcome bandwidth_against_memcpy(const WayRun* shm_two_cpus, const std::vector<BandwidthPoint>& memcpy_points);

}  // namespace proclab::ipc_cost
