// The metric ids that cross a boundary: written by a demo and read by the runner (crosscheck,
// the report's plots) or by another tool. Declared once here, so the writer and the reader cannot
// drift apart; docs/schema.md lists them for the plotting script, which is Python.
#pragma once

#include <string>
#include <string_view>

namespace proclab::metric_id {

// context_switch: "round_trip_processes_pipe_same_cpu", "hop_corrected_threads_futex_cross_cpu", ...
inline std::string context_switch(std::string_view figure, std::string_view endpoints, std::string_view channel,
                                  bool same_cpu) {
    std::string id(figure);
    id += '_';
    id += endpoints;
    id += '_';
    id += channel;
    id += same_cpu ? "_same_cpu" : "_cross_cpu";
    return id;
}
inline constexpr std::string_view kRoundTrip = "round_trip";        // token round trip (two hops)
inline constexpr std::string_view kHopCorrected = "hop_corrected";  // one switch: half a round trip less the channel

// creation_cost
inline constexpr std::string_view kFork = "fork";
inline constexpr std::string_view kVfork = "vfork";
inline constexpr std::string_view kThreadCreateJoin = "thread_create_join";
inline constexpr std::string_view kPoolHandoff = "pool_handoff";

}  // namespace proclab::metric_id
