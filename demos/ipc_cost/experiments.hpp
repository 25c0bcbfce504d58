// ipc_cost's experiments: a forked peer answers on one way; the parent times round trips
// (latency) and one-way streams (bandwidth) by message size, and checks that every byte arrives
// intact and in order. The floors are measured in the same run: memcpy within one process
// (here), the cache-line hand-off between the two CPUs (common/handoff.hpp).
#pragma once

#include "ipc_cost/ways.hpp"

#include "proclab/clock.hpp"
#include "proclab/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace proclab::ipc_cost {

struct Placement {
    int initiator_cpu = 0;
    int responder_cpu = 0;
    bool same_cpu() const { return initiator_cpu == responder_cpu; }
};

struct Budget {
    double latency_s_per_size = 0.03;  // round trips of one size run for about this long
    double bandwidth_s_per_sample = 0.04;
    int bandwidth_samples = 5;
    int fixed_round_trips = 0;  // > 0: exactly this many round trips per size (--round-trips)
    double clock_overhead_ns = 0;
    // > 0: no way and no message size is started after this instant (CLOCK_MONOTONIC ns). On a
    // loaded machine a round trip can take milliseconds instead of microseconds; what is left out
    // is reported as not measured, and the demo ends within its timeout.
    Nanos deadline = 0;
    bool past_deadline() const;
};

struct LatencyPoint {
    std::size_t size = 0;
    Summary round_trip_ns;
};

struct BandwidthPoint {
    std::size_t size = 0;
    Summary bytes_per_s;         // over the samples
    std::uint64_t messages = 0;  // per sample
};

// The point of `points` (latency or bandwidth) for a message size, or nullptr.
template <class Point>
const Point* point_at(const std::vector<Point>& points, std::size_t size) {
    for (const auto& p : points)
        if (p.size == size) return &p;
    return nullptr;
}

struct WayRun {
    WayId way{};
    Placement placement;
    bool available = true;
    std::string reason;        // why not, when not available
    bool out_of_time = false;  // not available because the time budget ran out before it (Budget::deadline)
    std::string how;           // how the way carried the messages (chunks, slots)
    bool intact = false;       // every check message crossed both ways intact and in order
    std::string check_detail;  // what the check did, or what failed
    std::vector<LatencyPoint> latency;
    std::vector<BandwidthPoint> bandwidth;
    std::string cut_short;  // non-empty: what the time budget left out (Budget::deadline)
};

// The bytes of check message `index` (deterministic, never 0 in its first 8 bytes).
void fill_pattern(std::byte* data, std::size_t size, std::uint64_t seed, std::uint64_t index);
bool matches_pattern(const std::byte* data, std::size_t size, std::uint64_t seed, std::uint64_t index);

// Sends `messages_per_size` check messages of each size both ways through a fresh peer: the peer
// verifies every byte of what it receives and answers with its own pattern, which is verified here.
// Returns whether all arrived intact and in order, and a sentence saying what was checked.
struct CheckOutcome {
    bool intact = false;
    std::string detail;
};
CheckOutcome check_way(WayId way, const Placement& placement, const std::vector<std::size_t>& sizes,
                       int messages_per_size = 3);

// The whole measurement of one way at one placement: check, then latency at every size the way
// carries, then bandwidth if it streams. A way that cannot open comes back not available.
WayRun measure_way(WayId way, const Placement& placement, const std::vector<std::size_t>& sizes, const Budget& budget);

// memcpy between two private buffers of one process, on the calling thread: bytes per second.
std::vector<BandwidthPoint> measure_memcpy(const std::vector<std::size_t>& sizes, const Budget& budget);

}  // namespace proclab::ipc_cost
