#include "proclab/clock.hpp"

#include "proclab/stats.hpp"

#include <limits>
#include <vector>

namespace proclab {

ClockCalibration calibrate_clock(int samples) {
    if (samples < 2) samples = 2;
    for (int i = 0; i < 1000; ++i) (void)now_ns();  // warm-up: vDSO page and caches

    std::vector<double> deltas;
    deltas.reserve(static_cast<std::size_t>(samples));
    Nanos smallest_step = std::numeric_limits<Nanos>::max();
    for (int i = 0; i < samples; ++i) {
        const Nanos a = now_ns();
        const Nanos b = now_ns();
        deltas.push_back(static_cast<double>(b - a));
        if (b > a && b - a < smallest_step) smallest_step = b - a;
    }

    ClockCalibration c;
    c.samples = samples;
    c.read_overhead_ns = summarize(deltas).median;
    c.observed_resolution_ns =
        smallest_step == std::numeric_limits<Nanos>::max() ? 0.0 : static_cast<double>(smallest_step);
    timespec res{};
    if (::clock_getres(CLOCK_MONOTONIC, &res) == 0)
        c.reported_resolution_ns = static_cast<double>(res.tv_sec) * 1e9 + static_cast<double>(res.tv_nsec);
    return c;
}

}  // namespace proclab
