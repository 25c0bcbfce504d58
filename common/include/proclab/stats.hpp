// Statistics over samples: small pure functions, unit-tested in tests/unit/test_stats.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace proclab {

struct Summary {
    std::size_t count = 0;
    double min = 0, median = 0, mean = 0, p90 = 0, p99 = 0, max = 0;
    double stddev = 0;  // sample standard deviation (n - 1); 0 for a single sample
    double cv = 0;      // coefficient of variation: stddev / mean (0 when the mean is 0)
    // The distribution, kept so that two runs can be compared statistically (proclab compare):
    // every sample, sorted, when there are at most kDistributionPoints; otherwise the percentiles
    // p0, p1, ..., p100 (kDistributionPoints values).
    std::vector<double> distribution;
    bool distribution_is_percentiles() const { return count > distribution.size(); }
};

inline constexpr std::size_t kDistributionPoints = 101;

// The p-th percentile (0..100) of already sorted samples, interpolating linearly between the
// closest ranks (the definition numpy and Google Benchmark use). Throws on an empty span.
double percentile_sorted(std::span<const double> sorted, double p);

// Summary of unsorted samples. Throws std::invalid_argument on an empty span.
Summary summarize(std::span<const double> samples);

// The median of unsorted values (the mean of the two middle ones for an even count). Throws
// std::invalid_argument on an empty vector.
double median_of(std::vector<double> values);

// The two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected, with a
// continuity correction): how likely two samples this far apart are if both come from one
// distribution. None with fewer than 3 values on a side (too few to say anything).
std::optional<double> mann_whitney_p(std::span<const double> a, std::span<const double> b);

// Each sample minus a calibrated overhead, never below zero.
std::vector<double> subtract_overhead(std::span<const double> samples, double overhead);

}  // namespace proclab
