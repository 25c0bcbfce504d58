// sched_latency's P2 rule (demos/sched_latency/verdicts.hpp) on hand-made lateness, and the tick
// estimate from timer interrupts (probes.hpp).
#include "sched_latency/probes.hpp"
#include "sched_latency/verdicts.hpp"

#include "sound.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::sched_latency;
using proclab::test::sound;

namespace {

constexpr double kUs = 1e3, kMs = 1e6;

// n wake-ups at `typical`, the last `tail` of them at `slow`.
LatenessCell cell(Policy p, int load, int cpus, double typical, int tail = 0, double slow = 0, int n = 200) {
    LatenessCell c;
    c.policy = p;
    c.load_tasks = load;
    c.cpus = cpus;
    for (int i = 0; i < n; ++i) c.samples_ns.push_back(i >= n - tail ? slow : typical);
    c.run_delay_per_wakeup_ns = 2 * kUs;
    return c;
}

Interference quiet() { return test::interference(0.01); }
Interference busy() { return test::interference(0.48); }

}  // namespace

TEST_CASE("sched_latency: a turn is ceil(runnable / CPUs) ticks") {
    CHECK(turn_bound_ns(4, 2, 4 * kMs) == Approx(12 * kMs));  // 5 runnable on 2 CPUs: 3 slices
    CHECK(turn_bound_ns(2, 2, 4 * kMs) == Approx(8 * kMs));
    CHECK(turn_bound_ns(0, 1, 4 * kMs) == Approx(4 * kMs));
    CHECK(turn_bound_ns(3, 0, 1 * kMs) == Approx(4 * kMs));  // no CPU count: taken as one
}

TEST_CASE("sched_latency P2: a woken task that runs within a turn confirms") {
    const auto d =
        sound(decide_p2({cell(Policy::other, 0, 2, 70 * kUs), cell(Policy::other, 4, 2, 70 * kUs, 1, 3 * kMs),
                         cell(Policy::fifo, 4, 2, 20 * kUs)},
                        4 * kMs, quiet()));
    CHECK(d.verdict == Verdict::confirmed);
    REQUIRE(d.fact("load"));
    CHECK(d.fact("load")->number() == 4);  // the most loaded cell decides
    REQUIRE(d.fact("fifo_p99"));
    CHECK(d.fact("fifo_p99")->number() == Approx(20 * kUs));
    CHECK(d.fact("turn_bound")->number() == Approx(12 * kMs));
}

TEST_CASE("sched_latency P2: a tail beyond a turn is nuanced, starvation refutes, other load makes both not-measured") {
    // 3 of 200 wake-ups (1.5%) at 20 ms: p99 beyond the 12 ms turn, the median fine.
    const auto tail = cell(Policy::other, 4, 2, 70 * kUs, 3, 20 * kMs);
    CHECK(sound(decide_p2({tail}, 4 * kMs, quiet())).verdict == Verdict::nuanced);
    CHECK(sound(decide_p2({tail}, 4 * kMs, busy())).verdict == Verdict::not_measured);
    // Most wake-ups 150 ms late: 12.5 turns.
    const auto starved = cell(Policy::other, 4, 2, 150 * kMs);
    CHECK(sound(decide_p2({starved}, 4 * kMs, quiet())).verdict == Verdict::refuted);
    CHECK(sound(decide_p2({starved}, 4 * kMs, busy())).verdict == Verdict::not_measured);
    // A window too short to count the load within the margin is not clear of it: no refutation.
    Interference short_window = quiet();
    short_window.window_ns = 0.1e9;
    short_window.other_ns = 0;
    CHECK(sound(decide_p2({starved}, 4 * kMs, short_window)).verdict == Verdict::not_measured);
    // Under a CPU quota below the CPU count a long wait is the quota's: not-measured, named.
    const auto quota = sound(decide_p2({tail}, 4 * kMs, quiet(), 1.0));
    CHECK(quota.verdict == Verdict::not_measured);
    CHECK_THAT(quota.reason_text(), Catch::Contains("a CPU quota of 1.00 CPU (cgroup)"));
    CHECK(sound(decide_p2({tail}, 4 * kMs, quiet(), 2.0)).verdict ==
          Verdict::nuanced);  // not below the CPUs: no matter
    // 100 ms: beyond a turn, short of 10.
    CHECK(sound(decide_p2({cell(Policy::other, 4, 2, 100 * kMs)}, 4 * kMs, quiet())).verdict == Verdict::nuanced);
}

TEST_CASE("sched_latency P2: without an observed tick the coarsest one bounds a turn") {
    const auto d = sound(decide_p2({cell(Policy::other, 2, 1, 70 * kUs, 2, 25 * kMs)}, std::nullopt, quiet()));
    CHECK(d.fact("tick")->number() == Approx(kCoarsestTickNs));
    CHECK(d.fact("turn_bound")->number() == Approx(30 * kMs));
    CHECK(d.verdict == Verdict::confirmed);  // 25 ms within 3 turns of 10 ms
}

TEST_CASE("sched_latency P2: nothing to wait for, or no SCHED_OTHER sleeper, is not-measured") {
    // Idle, or a load that leaves a CPU free: nothing waits for a turn.
    CHECK(sound(decide_p2({cell(Policy::other, 0, 2, 70 * kUs), cell(Policy::other, 1, 2, 70 * kUs)}, 4 * kMs, quiet()))
              .verdict == Verdict::not_measured);
    auto refused = cell(Policy::other, 4, 2, 0, 0, 0, 0);
    refused.refused = "SCHED_OTHER refused";
    CHECK(sound(decide_p2({refused, cell(Policy::fifo, 4, 2, 20 * kUs)}, 4 * kMs, quiet())).verdict ==
          Verdict::not_measured);
    CHECK(sound(decide_p2({}, std::nullopt, quiet())).verdict == Verdict::not_measured);
}

TEST_CASE("sched_latency: the tick from timer interrupts leaves out the sleeper's own") {
    // 2 busy CPUs over 1 s: 250 ticks each, plus 1000 expiries of the sleeper's timer on CPU 0.
    const std::vector<std::int64_t> before{100, 200}, after{100 + 1250, 200 + 250};
    REQUIRE(observed_tick_ns(before, after, {0, 1}, 1000, 1e9));
    CHECK(*observed_tick_ns(before, after, {0, 1}, 1000, 1e9) == Approx(4 * kMs));
    // Only CPU 1 busy (pinned): its own count.
    CHECK(*observed_tick_ns(before, after, {1}, 0, 1e9) == Approx(4 * kMs));
    // A CPU the reading lacks, no window, or too few interrupts: unknown.
    CHECK_FALSE(observed_tick_ns(before, after, {2}, 0, 1e9));
    CHECK_FALSE(observed_tick_ns(before, after, {0, 1}, 0, 0));
    CHECK_FALSE(observed_tick_ns({0, 0}, {5, 5}, {0, 1}, 0, 1e9));
}

TEST_CASE("sched_latency: policies by option name") {
    CHECK(policy_from_option("other") == Policy::other);
    CHECK(policy_from_option("nice-10") == Policy::nice_minus_10);
    CHECK(policy_from_option("fifo") == Policy::fifo);
    CHECK_FALSE(policy_from_option("rr"));
}
