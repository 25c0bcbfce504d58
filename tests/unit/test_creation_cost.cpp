// The verdict rule of demos/creation_cost.cpp.
#define PROCLAB_NO_MAIN
#include "../../demos/creation_cost.cpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::creation_cost;

TEST_CASE("T8 follows the ratio of thread creation to a pool hand-off", "[creation_cost]") {
    CHECK(decide_t8({60000, 10000, 200000, 500000}).verdict == Verdict::confirmed);  // 6x
    CHECK(decide_t8({20000, 10000, 200000, 500000}).verdict == Verdict::nuanced);    // 2x
    CHECK(decide_t8({9000, 10000, 200000, 500000}).verdict == Verdict::refuted);
    CHECK(decide_t8({9000, 0, 200000, 500000}).verdict == Verdict::not_measured);
    CHECK_THAT(decide_t8({60000, 10000, 200000, 500000}).reason, Catch::Contains("(6.0x)"));
}
