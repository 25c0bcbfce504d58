// The verdict rules of demos/context_switch/verdicts.hpp, on hand-made measurements.
#include "context_switch/verdicts.hpp"

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

TEST_CASE("P2 is confirmed by one switch per hop between pinned processes", "[context_switch]") {
    const auto v = decide_p2({make(Kind::processes, 1.0)});
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("1.00 context switches per hop"));
    CHECK(decide_p2({make(Kind::processes, 0.5)}).verdict == Verdict::nuanced);
    CHECK(decide_p2({make(Kind::processes, -1)}).verdict == Verdict::not_measured);
    CHECK(decide_p2({make(Kind::threads, 1.0)}).verdict == Verdict::not_measured);
}

TEST_CASE("T1 is confirmed by one switch per hop between pinned threads, with the ratio to processes", "[context_switch]") {
    const auto v = decide_t1({make(Kind::processes, 1.0, 2000), make(Kind::threads, 1.0, 1800)});
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("thread/process 0.86"));
    CHECK(decide_t1({make(Kind::processes, 1.0)}).verdict == Verdict::not_measured);
    CHECK(decide_t1({make(Kind::threads, 0.3)}).verdict == Verdict::nuanced);
}

TEST_CASE("a hop with fewer switches than hops is not priced as a switch", "[context_switch]") {
    // Recorded: processes / futex on two CPUs, 0.19 switches per hop, "hop corrected" 0 ns.
    auto futex_cross = make(Kind::processes, 0.19, 400);
    futex_cross.config = Config{Kind::processes, Channel::futex, false, 0, 1, 0};
    CHECK_FALSE(futex_cross.is_switch());
    CHECK(make(Kind::processes, 0.95).is_switch());
    // It does not touch the same-CPU verdicts either.
    CHECK(decide_p2({make(Kind::processes, 1.0), futex_cross}).verdict == Verdict::confirmed);
}

TEST_CASE("each repetition is a trial with its own switch counts", "[context_switch]") {
    auto m = make(Kind::processes, 0.9);
    m.rep_medians = {2000, 2100, 2050};
    m.rep_switches_per_hop = {1.0, 0.4, 1.0};
    const auto second = trial_view({m}, 1);
    CHECK(second.front().switches_per_hop == 0.4);
    CHECK(second.front().round_trip.median == 2100);
    std::vector<ClaimVerdict> trials;
    for (std::size_t r = 0; r < 3; ++r) trials.push_back(decide_p2(trial_view({m}, r)));
    const auto v = decide_from_trials(trials);
    CHECK(v.verdict == Verdict::confirmed);  // 2 of 3
    CHECK(v.agreeing_trials() == 2);
}

TEST_CASE("the working-set sweep prices a switch less the channel and a warm pass, never below zero", "[context_switch]") {
    auto m = make(Kind::processes, 1.0, 20000);  // hop 10 µs, channel 300 ns
    m.config.working_set = 1 << 20;
    m.touch_alone = 4000;
    CHECK(m.switch_cost() == 5700);
    m.touch_alone = 50000;
    CHECK(m.switch_cost() == 0);
    // A sweep point is not the plain ping-pong the verdicts read.
    CHECK(find({m}, Kind::processes, Channel::pipe, true) == nullptr);
    CHECK(decide_p2({m}).verdict == Verdict::not_measured);
}
