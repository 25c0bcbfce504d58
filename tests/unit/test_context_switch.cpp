// context_switch's arithmetic and its floor check (demos/context_switch/pingpong.hpp), on
// hand-made measurements. The demo decides no claim: a blocking hop is a switch by construction.
#include "context_switch/pingpong.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::context_switch;

namespace {
Measurement make(Kind k, double switches_per_hop, double round_trip_ns = 2000) {
    Measurement m;
    m.config = Config{k, Channel::pipe, true, 0, 0, 0};
    m.round_trip.median = round_trip_ns;
    m.overhead_per_hop = 300;
    m.switches_per_hop = switches_per_hop;
    m.round_trips = 1000;
    return m;
}
}  // namespace

TEST_CASE("a hop corrected for the channel is half a round trip less the channel alone", "[context_switch]") {
    const auto m = make(Kind::processes, 1.0, 2000);
    CHECK(m.hop() == 1000);
    CHECK(m.hop_corrected() == 700);
    auto cheap = m;
    cheap.overhead_per_hop = 5000;
    CHECK(cheap.hop_corrected() == 0);  // never negative
}

TEST_CASE("a hop with fewer switches than hops is not priced as a switch", "[context_switch]") {
    // Recorded: processes / futex on two CPUs, 0.19 switches per hop, "hop corrected" 0 ns.
    auto futex_cross = make(Kind::processes, 0.19, 400);
    futex_cross.config = Config{Kind::processes, Channel::futex, false, 0, 1, 0};
    CHECK_FALSE(futex_cross.is_switch());
    CHECK(make(Kind::processes, 0.95).is_switch());
    // It is found as what it is, not as the same-CPU pipe row.
    CHECK(find({make(Kind::processes, 1.0), futex_cross}, Kind::processes, Channel::futex, false) != nullptr);
    CHECK(find({futex_cross}, Kind::processes, Channel::pipe, true) == nullptr);
}

TEST_CASE("a two-CPU hop below a cache line's trip between the same CPUs is flagged as implausible",
          "[context_switch]") {
    CHECK(floor_check(30000, false, 60).empty());
    CHECK(floor_check(56, false, 60).empty());  // within the 10% noise allowed
    CHECK_THAT(floor_check(30, false, 60), Catch::Contains("implausible") && Catch::Contains("60 ns"));
    CHECK(floor_check(30, true, 60).empty());             // on one CPU no line travels
    CHECK(floor_check(30, false, std::nullopt).empty());  // no floor measured: nothing to judge against
}

TEST_CASE("the working-set sweep prices a switch less the channel and a warm pass, never below zero",
          "[context_switch]") {
    auto m = make(Kind::processes, 1.0, 20000);  // hop 10 µs, channel 300 ns
    m.config.working_set = 1 << 20;
    m.touch_alone = 4000;
    CHECK(m.switch_cost() == 5700);
    m.touch_alone = 50000;
    CHECK(m.switch_cost() == 0);
    // A sweep point is not the plain ping-pong.
    CHECK(find({m}, Kind::processes, Channel::pipe, true) == nullptr);
}
