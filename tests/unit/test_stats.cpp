#include "proclab/clock.hpp"
#include "proclab/stats.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

using namespace proclab;

TEST_CASE("a summary of one to ten has the textbook values", "[stats]") {
    const std::vector<double> samples{7, 3, 10, 1, 5, 2, 9, 4, 8, 6};  // unsorted on purpose
    const auto s = summarize(samples);
    CHECK(s.count == 10);
    CHECK(s.min == 1);
    CHECK(s.max == 10);
    CHECK(s.mean == Approx(5.5));
    CHECK(s.median == Approx(5.5));
    CHECK(s.p90 == Approx(9.1));
    CHECK(s.p99 == Approx(9.91));
    CHECK(s.stddev == Approx(3.0276503541));  // sample standard deviation, n - 1
    CHECK(s.cv == Approx(3.0276503541 / 5.5));
}

TEST_CASE("percentiles interpolate between the closest ranks", "[stats]") {
    const std::vector<double> sorted{10, 20, 30, 40};
    CHECK(percentile_sorted(sorted, 0) == 10);
    CHECK(percentile_sorted(sorted, 100) == 40);
    CHECK(percentile_sorted(sorted, 50) == Approx(25));
    CHECK(percentile_sorted(sorted, 25) == Approx(17.5));
}

TEST_CASE("a single sample has no spread", "[stats]") {
    const std::vector<double> one{42};
    const auto s = summarize(one);
    CHECK(s.min == 42);
    CHECK(s.median == 42);
    CHECK(s.p99 == 42);
    CHECK(s.stddev == 0);
    CHECK(s.cv == 0);
}

TEST_CASE("a summary of no samples is an error, not a zero", "[stats]") {
    const std::vector<double> none;
    CHECK_THROWS_AS(summarize(none), std::invalid_argument);
    CHECK_THROWS_AS(percentile_sorted(none, 50), std::invalid_argument);
}

TEST_CASE("a zero mean gives a zero coefficient of variation, not a division by zero", "[stats]") {
    const std::vector<double> zeros{0, 0, 0};
    CHECK(summarize(zeros).cv == 0);
}

TEST_CASE("subtracting the clock overhead never goes below zero", "[stats]") {
    const std::vector<double> samples{100, 15, 20};
    const auto out = subtract_overhead(samples, 20);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == 80);
    CHECK(out[1] == 0);
    CHECK(out[2] == 0);
}

TEST_CASE("the clock calibration finds a positive read cost and a step", "[clock]") {
    const auto c = calibrate_clock(2000);
    CHECK(c.samples == 2000);
    CHECK(c.read_overhead_ns >= 0);
    CHECK(c.observed_resolution_ns > 0);
    CHECK(c.reported_resolution_ns > 0);
}

TEST_CASE("the monotonic clock never goes back", "[clock]") {
    Nanos last = now_ns();
    for (int i = 0; i < 100000; ++i) {
        const Nanos t = now_ns();
        REQUIRE(t >= last);
        last = t;
    }
}

TEST_CASE("a summary keeps its distribution: every sample up to 101, else the 101 percentiles", "[stats]") {
    const auto few = summarize(std::vector<double>{3, 1, 2});
    CHECK(few.distribution == std::vector<double>{1, 2, 3});
    CHECK_FALSE(few.distribution_is_percentiles());
    std::vector<double> many;
    for (int i = 1000; i >= 0; --i) many.push_back(i);
    const auto s = summarize(many);
    REQUIRE(s.distribution.size() == kDistributionPoints);
    CHECK(s.distribution_is_percentiles());
    CHECK(s.distribution.front() == 0);
    CHECK(s.distribution[50] == Approx(500));
    CHECK(s.distribution.back() == 1000);
}
