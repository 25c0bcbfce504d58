// The cache-line hand-off between two pinned threads (common/handoff.hpp, used by core_to_core,
// context_switch and ipc_cost): the data crosses intact and in order.
#include "proclab/environment.hpp"
#include "proclab/handoff.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

using namespace proclab;

namespace {
// The NUMA node sysfs puts `cpu` in (its nodeN entry), -1 where there is none.
int cpu_node(int cpu) {
    for (const auto& e : std::filesystem::directory_iterator(fmt::format("/sys/devices/system/cpu/cpu{}", cpu))) {
        const std::string name = e.path().filename().string();
        if (name.rfind("node", 0) == 0 && name.size() > 4 && std::isdigit(static_cast<unsigned char>(name[4])))
            return std::stoi(name.substr(4));
    }
    return -1;
}
}  // namespace

TEST_CASE("A cache line handed between two pinned threads arrives intact and in order", "[threads][core_to_core]") {
    const auto cpus = probe_environment().affinity_cpus;
    const int a = cpus.front(), b = cpus.size() > 1 ? cpus[1] : cpus.front();
    if (a == b) {
        WARN("one CPU: the pair is one CPU with itself (both threads take turns)");
        CHECK_THROWS_AS(measure_handoff(a, b, 5, 0), std::invalid_argument);
        return;  // two spinning threads on one CPU would take a slice per hand-off
    }
    for (const auto lines : {HandoffLines::one, HandoffLines::one_per_direction}) {
        const auto r = measure_handoff(a, b, 5, 0, lines);
        // 2 x 100 warm-up + 5 x 100 timed round trips, each token seen exactly once and in order.
        CHECK(r.tokens_in_order == 700);
        CHECK(r.one_way_ns > 0);
        // The line's page was first touched by CPU a's thread: the kernel put it on a's node.
        const int node_of_a = cpu_node(a);
        if (r.line_node >= 0 && node_of_a >= 0) CHECK(r.line_node == node_of_a);
    }
    CHECK_THROWS_AS(measure_handoff(a, a, 5, 0), std::invalid_argument);
}

TEST_CASE("A demo's floor is the suite's for its pair when one is handed down, and its own otherwise",
          "[threads][core_to_core][floor]") {
    const auto cpus = probe_environment().affinity_cpus;
    if (cpus.size() < 2) {
        WARN("one CPU: no pair, no floor");
        return;
    }
    const int a = cpus[0], b = cpus[1];
    // A suite floor of 1 ns: the demo's own is far above it, so the suite's stands (it is lower).
    const LineFloor low = line_floor(a, b, 5, 0, fmt::format("{}-{}:1", b, a));
    CHECK(low.uses_suite());
    CHECK(low.floor_ns() == Approx(1.0));
    CHECK(low.own.one_way_min_ns > 0);
    // A suite floor of 1 s is no floor: the demo's own measurement shows the line is faster.
    const LineFloor high = line_floor(a, b, 5, 0, fmt::format("{}-{}:1e9", a, b));
    CHECK_FALSE(high.uses_suite());
    CHECK(high.floor_ns() == Approx(high.own.one_way_min_ns));
    // None handed down for the pair: its own.
    CHECK_FALSE(line_floor(a, b, 5, 0, std::string_view{}).suite_min_ns);
}
