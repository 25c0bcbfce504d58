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

namespace proclab {

inline constexpr int kHandoffBatch = 100;  // round trips per pair of clock readings

struct CacheLineHandoff {
    int a = -1, b = -1;
    double one_way_ns = 0;     // median batch round trip / 2
    double one_way_p90_ns = 0;
    // The fastest batch's round trip / 2: the floor a cross-CPU figure is checked against. A floor
    // is a lower bound, and any batch shows the line can travel that fast; the median is not one
    // (a neighbour that preempts the spinning threads inflates it: 745 ns one way was recorded
    // beside sleepers, where the line takes about 55).
    double one_way_min_ns = 0;
    std::uint64_t tokens_in_order = 0;  // tokens the responder saw, each the one expected next
};

// Which lines carry the tokens. `one`: both directions on one line (c2clat's ping-pong, the floor).
// `one_per_direction`: the initiator writes one line and the responder another, which is the shape
// of any message channel built from two one-way rings (ipc_cost's shared memory): each hop then has
// to take the line away from a reader spinning on it, which costs more than the single line's
// ping-pong on most machines. Measured beside the floor, it says how much of a ring's cost is the shape.
enum class HandoffLines { one, one_per_direction };

// Both threads spin: on one CPU (a == b) each hand-off would wait for a time slice, so a == b is
// refused (std::invalid_argument). Throws HarnessError when a CPU cannot be pinned to.
CacheLineHandoff measure_handoff(int a, int b, int batches, double clock_overhead_ns, HandoffLines lines = HandoffLines::one);

}  // namespace proclab
