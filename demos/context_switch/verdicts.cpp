#include "context_switch/verdicts.hpp"

#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::context_switch {

const Measurement* find(const std::vector<Measurement>& ms, Kind k, Channel ch, bool same_cpu) {
    for (const auto& m : ms)
        if (m.config.kind == k && m.config.channel == ch && m.config.same_cpu == same_cpu && m.config.working_set == 0) return &m;
    return nullptr;
}

std::string us(double ns) { return format_value(ns, "ns"); }

ClaimVerdict decide_p2(const std::vector<Measurement>& ms) {
    const Measurement* m = find(ms, Kind::processes, Channel::pipe, true);
    if (!m) return {"P2", Verdict::not_measured, "the same-CPU process ping-pong over a pipe did not run (see --endpoints, --channel, --placement)"};
    if (m->switches_per_hop < 0)
        return {"P2", Verdict::not_measured, "the context-switch counts in /proc/PID/status could not be read"};
    const std::string evidence =
        fmt::format("two processes pinned to one CPU: {:.2f} context switches per hop, {} per hop ({} less the pipe's own "
                    "{}), round trip median {}",
                    m->switches_per_hop, us(m->hop_corrected()), us(m->hop()), us(m->overhead_per_hop), us(m->round_trip.median));
    if (m->switches_per_hop >= kSwitchesPerHop)
        return {"P2", Verdict::confirmed, "the kernel handed the one CPU from process to process at every hop: " + evidence};
    return {"P2", Verdict::nuanced,
            fmt::format("fewer switches than hops (threshold {:.1f} per hop), so some hops found the other side running: {}",
                        kSwitchesPerHop, evidence)};
}

ClaimVerdict decide_t1(const std::vector<Measurement>& ms) {
    const Measurement* t = find(ms, Kind::threads, Channel::pipe, true);
    const Measurement* p = find(ms, Kind::processes, Channel::pipe, true);
    if (!t) return {"T1", Verdict::not_measured, "the same-CPU thread ping-pong over a pipe did not run (see --endpoints, --channel, --placement)"};
    if (t->switches_per_hop < 0)
        return {"T1", Verdict::not_measured, "the threads' context-switch counts in /proc/PID/task/TID/status could not be read"};
    const std::string evidence = fmt::format(
        "two threads of one process pinned to one CPU: {:.2f} switches per hop, {} per hop corrected{}", t->switches_per_hop,
        us(t->hop_corrected()),
        p ? fmt::format(" against {} between processes (thread/process {:.2f})", us(p->hop_corrected()),
                        p->hop_corrected() > 0 ? t->hop_corrected() / p->hop_corrected() : 0.0)
          : "");
    if (t->switches_per_hop >= kSwitchesPerHop)
        return {"T1", Verdict::confirmed, "the kernel switched between the threads as separate tasks, each with its own counts: " + evidence};
    return {"T1", Verdict::nuanced, fmt::format("fewer switches than hops (threshold {:.1f}): {}", kSwitchesPerHop, evidence)};
}

std::vector<Measurement> trial_view(const std::vector<Measurement>& ms, std::size_t r) {
    std::vector<Measurement> out = ms;
    for (auto& m : out) {
        if (r < m.rep_medians.size()) m.round_trip.median = m.rep_medians[r];
        if (r < m.rep_switches_per_hop.size()) m.switches_per_hop = m.rep_switches_per_hop[r];
    }
    return out;
}

}  // namespace proclab::context_switch
