// The verdict rule of demos/creation_cost/verdicts.hpp.
#include "creation_cost/verdicts.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::creation_cost;

namespace {
Costs costs(double thread_ns, double pool_ns, double load = 0.01) { return {thread_ns, pool_ns, 200000, 500000, test::interference(load)}; }
}  // namespace

TEST_CASE("T8 follows the ratio of thread creation to a pool hand-off", "[creation_cost]") {
    CHECK(decide_t8(costs(60000, 10000)).verdict == Verdict::confirmed);  // 6x
    CHECK(decide_t8(costs(20000, 10000)).verdict == Verdict::nuanced);    // 2x
    CHECK(decide_t8(costs(9000, 10000)).verdict == Verdict::refuted);
    CHECK(decide_t8(costs(9000, 0)).verdict == Verdict::not_measured);
    CHECK_THAT(decide_t8(costs(60000, 10000)).reason, Catch::Contains("(6.0x)"));
}

TEST_CASE("T8: a slow hand-off under load refutes nothing", "[creation_cost]") {
    // A pool worker held off its CPU by other load makes the hand-off as slow as a thread.
    const auto v = decide_t8(costs(9000, 10000, 0.5));
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason, Catch::Contains("other load held them"));
    CHECK(decide_t8(costs(60000, 10000, 0.5)).verdict == Verdict::confirmed);  // costly even so
    CHECK(decide_t8({9000, 10000, 200000, 500000, Interference{}}).verdict == Verdict::not_measured);
}
