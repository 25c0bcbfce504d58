// context_switch's experiment: two endpoints ping-pong a token, each touching its own working set
// when the token arrives (lmbench lat_ctx -s), so a switch's price includes the cache it costs.
#pragma once

#include "proclab/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace proclab::context_switch {

inline constexpr double kSwitchesPerHop = 0.9;  // a hop counts as a switch when at least this many were seen

enum class Kind { processes, threads };
enum class Channel { pipe, futex };

const char* name(Kind k);
const char* name(Channel c);

struct Config {
    Kind kind;
    Channel channel;
    bool same_cpu;
    int cpu_initiator, cpu_echo;
    std::size_t working_set = 0;  // bytes each endpoint reads (every cache line) when the token arrives
};

struct Measurement {
    Config config;
    Summary round_trip;                        // ns, all repetitions together
    std::vector<double> rep_medians;           // ns, one per repetition
    std::vector<double> rep_switches_per_hop;  // one per repetition; -1 unknown
    double overhead_per_hop = 0;               // ns, the channel alone
    double switches_per_hop = -1;              // -1: unknown
    std::int64_t round_trips = 0;
    double touch_alone = 0;  // ns, one pass over the working set with the cache warm, no switch
    // The initiator thread's own events per round trip, counted by the kernel (perf_event_open) in
    // an untimed pass after the timed repetitions, so no counter runs beside a timed round trip.
    int counted_round_trips = 0;
    std::optional<double> initiator_switches, initiator_migrations, initiator_faults;  // per round trip
    std::string counters_unavailable;  // why there are none, where there are none

    double hop() const { return round_trip.median / 2; }
    double hop_corrected() const { return hop() - overhead_per_hop > 0 ? hop() - overhead_per_hop : 0.0; }
    // The hop less the channel and less a warm pass over the working set: the switch itself plus
    // the cache it cost (lat_ctx's figure).
    double switch_cost() const { return hop_corrected() - touch_alone > 0 ? hop_corrected() - touch_alone : 0.0; }
    bool is_switch() const { return switches_per_hop >= kSwitchesPerHop; }
};

struct Counts {
    int warmup = 200;
    int round_trips = 1000;  // per repetition
    int repetitions = 3;
};

// The plain ping-pong (no working set) of one configuration, or nullptr when it did not run.
const Measurement* find(const std::vector<Measurement>& ms, Kind k, Channel ch, bool same_cpu);

// A two-CPU hop cannot be cheaper than a cache line's one-way trip between the same CPUs (the
// floor, measured in the same run): "" when it is not below it (beyond `tolerance`), else the words
// that flag it. Same-CPU hops have no such floor here.
std::string floor_check(double hop_ns, bool same_cpu, std::optional<double> line_one_way_ns, double tolerance = 0.10);

inline constexpr int kCountedRoundTrips =
    100;  // the untimed pass the kernel's counters see (at most a tenth of the timed)

// Runs one configuration: a forked echo process or an echo thread, pinned; the initiator pinned
// on the calling thread (restored after). Every child is reaped and every thread joined, also on error.
Measurement measure(const Config& c, const Counts& counts, double clock_overhead_ns);

// One pass reading every cache line of `bytes` bytes at `data`; returns a sum that must be used.
std::uint64_t touch(const std::byte* data, std::size_t bytes);
// The warm pass's cost on the calling thread: median ns per pass, the cache as full as it gets.
double measure_touch_alone(std::size_t bytes, double clock_overhead_ns);

}  // namespace proclab::context_switch
