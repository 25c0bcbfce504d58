#include "isolation_matrix/verdicts.hpp"

#include <fmt/format.h>

namespace proclab::isolation_matrix {

namespace {
const RelationshipRun* find(const std::vector<RelationshipRun>& runs, std::string_view id) {
    for (const auto& r : runs)
        if (r.relationship.id == id && r.measured) return &r;
    return nullptr;
}

std::vector<std::string> allowed_of(const RelationshipRun& r, bool (*which)(Action)) {
    std::vector<std::string> names;
    for (Action a : all_actions())
        if (which(a) && r.at(a).outcome == Outcome::allowed) names.emplace_back(name(a));
    return names;
}

bool controls(Action a) {
    return a == Action::signal_term || a == Action::ptrace_attach || a == Action::set_nice || a == Action::set_affinity ||
           a == Action::set_limits;
}
}  // namespace

ClaimVerdict decide_p3(const std::vector<RelationshipRun>& runs) {
    int unentitled = 0, refused = 0;
    std::vector<std::string> entitled_through;
    for (const auto& r : runs) {
        if (!r.measured) continue;
        const auto allowed = allowed_of(r, reaches_memory);
        if (!r.relationship.entitled) {
            ++unentitled;
            if (!allowed.empty())
                return {"P3", Verdict::refuted,
                        fmt::format("{} ({} against a target of {}) reached the target's memory without ptrace rights: {}",
                                    r.relationship.label, r.prober, r.target, fmt::join(allowed, ", "))};
            ++refused;
        } else if (!allowed.empty()) {
            entitled_through.push_back(fmt::format("{} ({})", r.relationship.label, fmt::join(allowed, ", ")));
        }
    }
    if (unentitled == 0)
        return {"P3", Verdict::not_measured, "no relationship without ptrace rights could be set up (see the matrix's notes)"};
    const std::string base = fmt::format(
        "every read and write of the target's memory (process_vm_readv/writev, /proc/PID/mem, ptrace) was refused in the {} "
        "relationship{} without ptrace rights",
        refused, refused == 1 ? "" : "s");
    if (!entitled_through.empty())
        return {"P3", Verdict::nuanced,
                fmt::format("{}; allowed where the kernel grants the right: {}: isolation is enforced per user and privilege, "
                            "not per process",
                            base, fmt::join(entitled_through, "; "))};
    return {"P3", Verdict::confirmed, base};
}

ClaimVerdict decide_p1(const std::vector<RelationshipRun>& runs, const std::vector<RunawayRun>& runaways) {
    int measured_runaways = 0;
    std::vector<std::string> capped, losses, stalled;
    for (const auto& r : runaways) {
        if (!r.measured) continue;
        ++measured_runaways;
        // Refuted only on a death: a stall in one window could be other load on the machine.
        if (!r.siblings_alive)
            return {"P1", Verdict::refuted, fmt::format("a sibling doing steady work died while a runaway ({}) ran beside it", r.what)};
        if (r.during.min_rate() <= 0) stalled.push_back(r.what);
        if (r.hard_cap_hit) capped.push_back(r.what);
        losses.push_back(fmt::format("{}: siblings lost {:.0f}%", r.what.substr(0, r.what.find(':')), 100 * r.sibling_loss()));
    }
    if (const auto* other = find(runs, "other_user")) {
        for (Action a : {Action::signal_term, Action::ptrace_attach})
            if (other->at(a).outcome == Outcome::allowed)
                return {"P1", Verdict::refuted,
                        fmt::format("an unprivileged process of another user could {} the target", a == Action::signal_term ? "SIGTERM" : "ptrace")};
    }
    const auto* same = find(runs, "same_user");
    if (measured_runaways == 0 && !same)
        return {"P1", Verdict::not_measured, "neither a runaway nor a same-user prober could be set up"};
    std::string evidence = measured_runaways ? fmt::format("{} runaways, each beside two siblings that kept working ({})", measured_runaways,
                                                           fmt::join(losses, "; "))
                                             : "no runaway could run";
    if (const auto* other = find(runs, "other_user"))
        evidence += fmt::format("; another user's unprivileged process could not signal, trace, renice or re-limit it ({}, {}, {}, {})",
                                cell(other->at(Action::signal_term)), cell(other->at(Action::ptrace_attach)),
                                cell(other->at(Action::set_nice)), cell(other->at(Action::set_limits)));
    if (!stalled.empty())
        return {"P1", Verdict::nuanced,
                fmt::format("{}; but a sibling made no progress at all while these ran: {}", evidence, fmt::join(stalled, ", "))};
    if (!capped.empty())
        return {"P1", Verdict::nuanced,
                fmt::format("{}; but only the demo's own cap stopped: {}", evidence, fmt::join(capped, ", "))};
    if (same) {
        const auto allowed = allowed_of(*same, controls);
        if (!allowed.empty())
            return {"P1", Verdict::nuanced,
                    fmt::format("{}; but between processes of one user the kernel allowed {}: programs are isolated from other "
                                "users, and from each other's excess only by limits",
                                evidence, fmt::join(allowed, ", "))};
    }
    return {"P1", Verdict::confirmed, evidence};
}

}  // namespace proclab::isolation_matrix
