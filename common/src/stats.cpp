#include "proclab/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace proclab {

double percentile_sorted(std::span<const double> sorted, double p) {
    if (sorted.empty()) throw std::invalid_argument("percentile of no samples");
    if (p <= 0) return sorted.front();
    if (p >= 100) return sorted.back();
    const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
    const auto lower = static_cast<std::size_t>(std::floor(rank));
    const auto upper = std::min(lower + 1, sorted.size() - 1);
    const double fraction = rank - static_cast<double>(lower);
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction;
}

Summary summarize(std::span<const double> samples) {
    if (samples.empty()) throw std::invalid_argument("summary of no samples");
    std::vector<double> sorted(samples.begin(), samples.end());
    std::sort(sorted.begin(), sorted.end());

    Summary s;
    s.count = sorted.size();
    s.min = sorted.front();
    s.max = sorted.back();
    s.median = percentile_sorted(sorted, 50);
    s.p90 = percentile_sorted(sorted, 90);
    s.p99 = percentile_sorted(sorted, 99);
    s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
    if (s.count > 1) {
        double squares = 0;
        for (double x : sorted) squares += (x - s.mean) * (x - s.mean);
        s.stddev = std::sqrt(squares / static_cast<double>(s.count - 1));
    }
    s.cv = s.mean != 0 ? s.stddev / s.mean : 0;
    if (sorted.size() <= kDistributionPoints) {
        s.distribution = std::move(sorted);
    } else {
        s.distribution.reserve(kDistributionPoints);
        for (std::size_t i = 0; i < kDistributionPoints; ++i)
            s.distribution.push_back(percentile_sorted(sorted, 100.0 * double(i) / double(kDistributionPoints - 1)));
    }
    return s;
}

std::vector<double> subtract_overhead(std::span<const double> samples, double overhead) {
    std::vector<double> out;
    out.reserve(samples.size());
    for (double x : samples) out.push_back(std::max(0.0, x - overhead));
    return out;
}

double median_of(std::vector<double> values) {
    if (values.empty()) throw std::invalid_argument("median_of: no values");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<double> mann_whitney_p(std::span<const double> a, std::span<const double> b) {
    const std::size_t n1 = a.size(), n2 = b.size();
    if (n1 < 3 || n2 < 3) return std::nullopt;
    std::vector<std::pair<double, int>> all;
    all.reserve(n1 + n2);
    for (double x : a) all.emplace_back(x, 0);
    for (double x : b) all.emplace_back(x, 1);
    std::sort(all.begin(), all.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
    const double n = double(n1 + n2);
    double rank_sum_a = 0, tie_term = 0;
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i;
        while (j < all.size() && all[j].first == all[i].first) ++j;
        const double average_rank = (double(i) + double(j) + 1) / 2;  // ranks i+1 .. j
        const double t = double(j - i);
        tie_term += t * t * t - t;
        for (std::size_t k = i; k < j; ++k)
            if (all[k].second == 0) rank_sum_a += average_rank;
        i = j;
    }
    const double u = rank_sum_a - double(n1) * double(n1 + 1) / 2;
    const double mean = double(n1) * double(n2) / 2;
    const double variance = double(n1) * double(n2) / 12 * ((n + 1) - tie_term / (n * (n - 1)));
    if (variance <= 0) return 1.0;  // every value equal
    const double z = std::max(0.0, std::fabs(u - mean) - 0.5) / std::sqrt(variance);
    return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

}  // namespace proclab
