// The cache-line hand-off between two CPUs: the floor under every cross-CPU figure (a wake-up on
// another CPU, a message through shared memory). core_to_core measures it for every pair;
// context_switch and ipc_cost measure it for the pair they use and print it beside their rows.
//
// Method (after c2clat and core-to-core-latency): two threads, each pinned to one CPU of the pair,
// hand one cache line back and forth: the initiator writes an odd token and spins until it reads
// the next even one, which the responder writes when it has seen the odd one. A round trip is two
// hand-offs of the line; it is timed in batches of kHandoffBatch on CLOCK_MONOTONIC (the clock's
// cost spread over the batch), after a warm-up, and the median batch gives the one-way hand-off.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

inline constexpr int kHandoffBatch = 100;  // round trips per pair of clock readings

struct CacheLineHandoff {
    int a = -1, b = -1;
    double one_way_ns = 0;  // median batch round trip / 2
    double one_way_p90_ns = 0;
    // The fastest batch's round trip / 2: the floor a cross-CPU figure is checked against. A floor
    // is a lower bound, and any batch shows the line can travel that fast; the median is not one
    // (a neighbour that preempts the spinning threads inflates it: 745 ns one way was recorded
    // beside sleepers, where the line takes about 55).
    double one_way_min_ns = 0;
    std::uint64_t tokens_in_order = 0;  // tokens the responder saw, each the one expected next
    int line_node = -1;                 // the NUMA node the line's page lives on (move_pages); -1 unknown
};

// Which lines carry the tokens. `one`: both directions on one line (c2clat's ping-pong, the floor).
// `one_per_direction`: the initiator writes one line and the responder another, which is the shape
// of any message channel built from two one-way rings (ipc_cost's shared memory): each hop then has
// to take the line away from a reader spinning on it, which costs more than the single line's
// ping-pong on most machines. Measured beside the floor, it says how much of a ring's cost is the shape.
enum class HandoffLines { one, one_per_direction };

// Both threads spin: on one CPU (a == b) each hand-off would wait for a time slice, so a == b is
// refused (std::invalid_argument). Throws HarnessError when a CPU cannot be pinned to.
CacheLineHandoff measure_handoff(int a, int b, int batches, double clock_overhead_ns,
                                 HandoffLines lines = HandoffLines::one);

// One floor per CPU pair per suite. Each demo that measured its own floor gave the same pair a
// different one (25, 27, 31 and 158 ns were recorded in one suite), so a figure could be
// "implausible" in one demo and fine in the next. The runner now measures, once and before any
// demo, every pair a demo can pick by default (cpu_pair_option: the idlest CPU with the first or
// second allowed one, so every pair that holds the first allowed CPU), and hands the fastest
// batches down in the environment variable below. A demo judges against the suite's floor for its
// pair where there is one, and still measures its own briefly: the two side by side are the
// floor's drift between the start of the suite and the demo.
inline constexpr const char* kLineFloorsVariable = "PROCLAB_LINE_FLOORS";
inline constexpr int kFloorBatches = 40;  // batches per pair, for the suite's floors and a --quick demo's own check
inline constexpr int kFullFloorBatches = 200;  // a full run's own check (context_switch, ipc_cost)

struct SharedFloor {
    int a = -1, b = -1;         // unordered: the line's trip is the same pair either way
    double one_way_min_ns = 0;  // the suite's floor (the fastest batch)
};

// The pairs the runner measures for `allowed` (sorted CPU ids): the first CPU with each other one,
// at most `max_pairs`. None for fewer than two CPUs.
std::vector<std::pair<int, int>> suite_floor_pairs(const std::vector<int>& allowed, std::size_t max_pairs = 256);
// "0-1:55.2,0-2:61" and back. Decoding skips what does not parse (the variable is ours, but a
// user may set it by hand): a pair without a floor is measured by the demo itself.
std::string encode_line_floors(const std::vector<CacheLineHandoff>& measured);
std::vector<SharedFloor> decode_line_floors(std::string_view text);

// A demo's own fastest batch this far below the suite's floor shows the suite's was no floor (the
// runner's measurement was slowed): the demo then judges against its own, and says so. Within it,
// the suite's stands, so that one pair has one floor across the demos.
inline constexpr double kFloorBelowSuite = 0.10;

// The floor a demo judges its cross-CPU figures against, with where it came from.
struct LineFloor {
    CacheLineHandoff own;                // this demo's measurement: its figures, and the drift check
    std::optional<double> suite_min_ns;  // the suite's floor for the pair, when the runner gave one
    // The suite's floor where there is one and this demo's own did not go below it by more than
    // kFloorBelowSuite; otherwise this demo's own fastest batch.
    bool uses_suite() const;
    double floor_ns() const { return uses_suite() ? *suite_min_ns : own.one_way_min_ns; }
    // This demo's fastest batch against the suite's (own / suite - 1); none without a suite floor.
    std::optional<double> drift() const;
    // Where the floor came from, with its value: "55 ns, the suite's, measured once before the
    // demos (this demo's own fastest batch: 57 ns, +4%)", "40 ns, this demo's own fastest batch:
    // the suite's 55 ns is 27% above it, so it was no floor", or "55 ns, this run's fastest batch".
    std::string describe() const;
};
// Measures the demo's own hand-off between a and b and reads the suite's floor for the pair from
// kLineFloorsVariable (or `shared_text` when given, for tests).
LineFloor line_floor(int a, int b, int batches, double clock_overhead_ns,
                     std::optional<std::string_view> shared_text = std::nullopt);
// The floor itself, from the suite's or this demo's own measurement (no clock involved).
LineFloor line_floor_from(const CacheLineHandoff& own, std::string_view shared_text);

}  // namespace proclab
