// The cache-line hand-off between two pinned threads (common/handoff.hpp, used by core_to_core,
// context_switch and ipc_cost): the data crosses intact and in order.
#include "proclab/environment.hpp"
#include "proclab/handoff.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace proclab;

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
    }
    CHECK_THROWS_AS(measure_handoff(a, a, 5, 0), std::invalid_argument);
}
