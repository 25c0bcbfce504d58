#include "ipc_cost/targets.hpp"

#include "proclab/render.hpp"
#include "proclab/sizes.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab::ipc_cost {

std::optional<std::vector<std::size_t>> parse_sizes(std::string_view text) {
    return parse_byte_list(text, kMinSize, kMaxSize);
}

std::optional<std::vector<WayId>> parse_ways(std::string_view text) {
    std::vector<WayId> ways;
    if (text == "all") {
        for (const auto& w : all_ways()) ways.push_back(w.id);
        return ways;
    }
    for (std::string_view part : split_list(text)) {
        const auto id = way_from_name(part);
        if (!id) return std::nullopt;
        if (std::find(ways.begin(), ways.end(), *id) == ways.end()) ways.push_back(*id);
    }
    return ways;
}

TargetOutcome spin_against_floor(const WayRun* spin, std::optional<double> floor_one_way_ns,
                                 std::optional<double> line_per_direction_one_way_ns) {
    TargetOutcome t{
        fmt::format("shm-spin hand-off (round trip / 2, smallest message, two CPUs) <= {:.0f}x the cache-line hand-off "
                    "between the same CPUs",
                    kSpinFloorRatio),
        "", std::nullopt};
    if (!floor_one_way_ns || *floor_one_way_ns <= 0) {
        t.measured = "not measured: no cache-line floor (one CPU, or the hand-off could not run)";
        return t;
    }
    if (!spin || !spin->available || !spin->intact || spin->latency.empty()) {
        t.measured = "not measured: shm-spin did not run between two CPUs";
        return t;
    }
    const LatencyPoint& smallest = spin->latency.front();
    const double handoff = smallest.round_trip_ns.median / 2;
    const double ratio = handoff / *floor_one_way_ns;
    t.measured = fmt::format("{} message: {} per hand-off against the floor's {}: {:.2f}x", byte_label(smallest.size),
                             format_value(handoff, "ns"), format_value(*floor_one_way_ns, "ns"), ratio);
    if (line_per_direction_one_way_ns && *line_per_direction_one_way_ns > 0)
        t.measured +=
            fmt::format("; against a line per direction ({}, the rings' shape): {:.2f}x",
                        format_value(*line_per_direction_one_way_ns, "ns"), handoff / *line_per_direction_one_way_ns);
    t.met = ratio <= kSpinFloorRatio;
    return t;
}

TargetOutcome bandwidth_against_memcpy(const WayRun* shm, const std::vector<BandwidthPoint>& memcpy_points) {
    TargetOutcome t{
        fmt::format("{} bandwidth (two CPUs) >= {:.0f}% of memcpy in one process, messages of {} and more",
                    shm ? info(shm->way).name : "shm", kShmBandwidthShare * 100, byte_label(kBandwidthFromSize)),
        "", std::nullopt};
    if (!shm || !shm->available || !shm->intact) {
        t.measured = "not measured: shared memory did not run between two CPUs";
        return t;
    }
    std::vector<std::string> parts;
    double lowest = 1e300;
    for (const auto& b : shm->bandwidth) {
        if (b.size < kBandwidthFromSize) continue;
        const BandwidthPoint* m = point_at(memcpy_points, b.size);
        if (!m || m->bytes_per_s.median <= 0) continue;
        const double share = b.bytes_per_s.median / m->bytes_per_s.median;
        lowest = std::min(lowest, share);
        parts.push_back(fmt::format("{}: {} of {} ({:.0f}%)", byte_label(b.size),
                                    format_value(b.bytes_per_s.median, "B/s"),
                                    format_value(m->bytes_per_s.median, "B/s"), share * 100));
    }
    if (parts.empty()) {
        t.measured = fmt::format("not measured: no message of {} or more in --sizes", byte_label(kBandwidthFromSize));
        return t;
    }
    t.measured = fmt::format("{}", fmt::join(parts, "; "));
    t.met = lowest >= kShmBandwidthShare;
    return t;
}

}  // namespace proclab::ipc_cost
