// The clock every measurement uses: CLOCK_MONOTONIC, never the wall clock (which NTP may step).
// Its own cost is calibrated at start, reported with every result, and subtracted where a
// measured interval is short enough for it to matter.
#pragma once

#include <cstdint>
#include <ctime>

namespace proclab {

using Nanos = std::int64_t;

inline Nanos now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<Nanos>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct ClockCalibration {
    double read_overhead_ns = 0;        // median cost of one clock read (back-to-back pairs)
    double observed_resolution_ns = 0;  // smallest non-zero step seen between consecutive reads
    double reported_resolution_ns = 0;  // what clock_getres() claims
    int samples = 0;
};

// Reads the clock `samples` times back to back (after a warm-up) to find its cost and step.
ClockCalibration calibrate_clock(int samples = 20000);

class Stopwatch {
public:
    Stopwatch() noexcept : start_(now_ns()) {}
    Nanos elapsed_ns() const noexcept { return now_ns() - start_; }
    double elapsed_s() const noexcept { return static_cast<double>(elapsed_ns()) / 1e9; }

private:
    Nanos start_;
};

}  // namespace proclab
