// context_switch's report: the ping-pong table (each two-CPU hop checked against the line's
// hand-off), the ratios and the working-set sweep, with their metrics, all rendered from what was
// measured. Nothing here measures.
#pragma once

#include "context_switch/pingpong.hpp"

#include "proclab/demo.hpp"
#include "proclab/handoff.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::context_switch {

struct Measured {
    Counts counts;  // round trips, repetitions, warm-up of each configuration
    std::optional<LineFloor>
        line;  // the floor under the two-CPU rows: the suite's, and this demo's own hand-off (none on one CPU)
    std::string pair_text;              // the two CPUs' place in the topology and the hand-off
    std::vector<Kind> kinds;            // the endpoints measured
    std::vector<Channel> channels;      // the channels measured
    std::vector<Measurement> pingpong;  // every endpoints x channel x placement
    std::vector<Measurement> sweep;     // the working-set sweep of the first configuration (empty: none)
};

// Adds the tables, the metrics, the notes and the raw series to `result`.
void present(Result& result, const DemoContext& ctx, const Measured& m);

}  // namespace proclab::context_switch
