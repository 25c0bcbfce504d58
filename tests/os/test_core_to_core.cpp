// core_to_core's hand-off between two pinned threads: the data crosses intact and in order.
#define PROCLAB_NO_MAIN
#include "../../demos/core_to_core.cpp"

#include <catch2/catch.hpp>

using namespace proclab;

TEST_CASE("A cache line handed between two pinned threads arrives intact and in order", "[threads][core_to_core]") {
    const auto cpus = probe_environment().affinity_cpus;
    const int a = cpus.front(), b = cpus.size() > 1 ? cpus[1] : cpus.front();
    if (a == b) {
        WARN("one CPU: the pair is one CPU with itself (both threads take turns)");
        return;  // two spinning threads on one CPU would take a slice per hand-off
    }
    const auto r = core_to_core::measure_pair(a, b, 5, 0);
    // 2 x 100 warm-up + 5 x 100 timed round trips, each token seen exactly once and in order.
    CHECK(r.checked == 700);
    CHECK(r.handoff_ns > 0);
}
