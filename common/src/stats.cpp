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

}  // namespace proclab
