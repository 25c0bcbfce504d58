#include "isolation_matrix/verdicts.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab::isolation_matrix {

const RuleInfo kP3Rule{
    .claim = "P3",
    .evidence =
        "in every relationship that could be set up, a prober's reads and writes of a target's memory "
        "(process_vm_readv/writev, "
        "/proc/PID/mem read and write, ptrace), each allowed or refused with its errno, and whether the kernel grants "
        "the prober "
        "ptrace rights there",
    .refuted_by =
        "memory reached by a prober without ptrace rights (another user, a non-dumpable target, a child user "
        "namespace)",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "every door shut without the right, and no prober with it reached memory (Yama ptrace_scope 3, say)",
         .reached_by = "P3 from the matrix: refused without the right, allowed with it"},
        {.verdict = Verdict::nuanced,
         .when =
             "shut without the right, open where the kernel grants it (the same user, root): isolation per user and "
             "privilege, not per process",
         .reached_by = "P3 from the matrix: refused without the right, allowed with it"},
        {.verdict = Verdict::refuted,
         .when = "memory reached without the right",
         .reached_by = "P3 from the matrix: refused without the right, allowed with it"},
        {.verdict = Verdict::not_measured,
         .when = "no relationship without the right could be set up",
         .reached_by = "P3 from the matrix: refused without the right, allowed with it"}}};

const RuleInfo kP1Rule{
    .claim = "P1",
    .evidence =
        "runaways (memory under RLIMIT_AS, a fork loop under RLIMIT_NPROC, files under RLIMIT_NOFILE, CPU threads "
        "under RLIMIT_CPU; cgroup v2 "
        "where delegated) beside two siblings doing steady work: their progress before, during and after, and what "
        "ended each "
        "runaway; and who of the same or another user may signal, trace, renice and re-limit a target",
    .refuted_by =
        "a sibling dying beside a runaway, or another user's unprivileged process able to signal or trace the target",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "every limit stopped its runaway, the siblings kept progressing, other users shut out, and no "
                 "same-user control allowed (a machine whose security module denies signals and tracing between one "
                 "user's processes)",
         .reached_by = "P1 from the matrix and the runaways"},
        {.verdict = Verdict::nuanced,
         .when = "a sibling stalled beside a runaway, only the demo's own cap stopped one (its limit failed), or "
                 "processes of "
                 "one user may signal, trace, renice or re-limit each other (Linux without a security module that "
                 "forbids it)",
         .reached_by = "A limit set beyond what the runaway reaches fails: the demo's cap stops it, and P1 says so"},
        {.verdict = Verdict::refuted,
         .when = "a sibling died, or another user's unprivileged process signalled or traced the target",
         .reached_by = "P1 from the matrix and the runaways"},
        {.verdict = Verdict::not_measured,
         .when = "neither a runaway nor a same-user prober could be set up",
         .reached_by = "P1 from the matrix and the runaways"}}};

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
    return a == Action::signal_term || a == Action::ptrace_attach || a == Action::set_nice ||
           a == Action::set_affinity || a == Action::set_limits;
}
}  // namespace

namespace {
Decision p3_rule(const std::vector<RelationshipRun>& runs) {
    Rule rule(kP3Rule);
    int unentitled = 0, attempts = 0, refused = 0;
    std::vector<std::string> unentitled_ids, entitled_through, reached_without;
    for (const auto& r : runs) {
        if (!r.measured) continue;
        const auto allowed = allowed_of(r, reaches_memory);
        if (!r.relationship.entitled) {
            ++unentitled;
            unentitled_ids.push_back(r.relationship.id);
            for (Action a : all_actions())
                if (reaches_memory(a) && r.at(a).outcome != Outcome::not_tried) {
                    ++attempts;
                    refused += r.at(a).outcome == Outcome::refused;
                }
            if (!allowed.empty())
                reached_without.push_back(fmt::format("{} ({})", r.relationship.id, fmt::join(allowed, ", ")));
        } else if (!allowed.empty()) {
            entitled_through.push_back(fmt::format("{} ({})", r.relationship.id, fmt::join(allowed, ", ")));
        }
    }
    rule.use(count_fact("relationships_without_right", unentitled,
                        "relationships whose prober has no ptrace rights to the target"));
    if (unentitled == 0)
        return rule.not_measured(
            "{relationships_without_right} relationships without ptrace rights could be set up (see the matrix's "
            "notes)",
            "no relationship without ptrace rights");
    rule.use(text_fact("without_right", fmt::format("{}", fmt::join(unentitled_ids, ", ")), "those relationships"));
    rule.use(count_fact("memory_attempts_without_right", attempts, "memory reads and writes tried in them"));
    rule.use(count_fact("memory_refused_without_right", refused, "of them, refused"));
    const std::string base =
        "reads and writes of the target's memory (process_vm_readv/writev, /proc/PID/mem, ptrace) by probers "
        "without ptrace rights ({without_right}): {memory_refused_without_right of memory_attempts_without_right} "
        "refused";
    if (!reached_without.empty()) {
        rule.use(text_fact("reached_without_right", fmt::format("{}", fmt::join(reached_without, "; ")),
                           "memory reached without the right"));
        return rule.refuted(base + "; reached without the right: {reached_without_right}",
                            "memory reached without ptrace rights: {reached_without_right}");
    }
    const std::string summary =
        "memory without ptrace rights: {memory_refused_without_right of memory_attempts_without_right} refused in "
        "{relationships_without_right} relationships";
    if (!entitled_through.empty()) {
        rule.use(text_fact("allowed_with_right", fmt::format("{}", fmt::join(entitled_through, "; ")),
                           "where the kernel grants the right"));
        return rule.nuanced(
            base +
                "; allowed where the kernel grants the right: {allowed_with_right}: isolation is enforced per user and "
                "privilege, not per process",
            summary + "; allowed with the right: {allowed_with_right}");
    }
    return rule.confirmed(base, summary);
}

Decision p1_rule(const std::vector<RelationshipRun>& runs, const std::vector<RunawayRun>& runaways) {
    Rule rule(kP1Rule);
    int measured = 0, stoppable = 0, stopped = 0, died_beside = 0;
    std::vector<std::string> capped, stalled, losses;
    const RunawayRun* worst = nullptr;
    for (const auto& r : runaways) {
        if (!r.measured) continue;
        ++measured;
        if (r.stoppable()) ++stoppable;
        if (r.stopped_by_limit()) ++stopped;
        if (!r.siblings_alive) ++died_beside;
        if (r.siblings_alive && r.during.min_rate() <= 0) stalled.emplace_back(id(r.kind));
        if (r.hard_cap_hit) capped.emplace_back(id(r.kind));
        losses.push_back(fmt::format("{} {:.0f}%", id(r.kind), 100 * r.sibling_loss()));
        if (!worst || r.sibling_loss() > worst->sibling_loss()) worst = &r;
    }
    rule.use(count_fact("runaways", measured, "runaways measured"));
    rule.use(count_fact("siblings_died", died_beside, "runaways beside which a sibling died"));
    const auto* other = find(runs, "other_user");
    const auto* same = find(runs, "same_user");
    if (died_beside > 0)
        return rule.refuted("a sibling doing steady work died beside {siblings_died} of {runaways} runaways",
                            "a sibling died beside a runaway");
    if (other) {
        rule.use(text_fact("other_user_sigterm", cell(other->at(Action::signal_term)),
                           "another user's unprivileged kill(SIGTERM)"));
        rule.use(text_fact("other_user_ptrace", cell(other->at(Action::ptrace_attach)),
                           "another user's unprivileged ptrace"));
        rule.use(text_fact("other_user_renice", cell(other->at(Action::set_nice)),
                           "another user's unprivileged setpriority"));
        rule.use(text_fact("other_user_prlimit", cell(other->at(Action::set_limits)),
                           "another user's unprivileged prlimit"));
        const bool reached = other->at(Action::signal_term).outcome == Outcome::allowed ||
                             other->at(Action::ptrace_attach).outcome == Outcome::allowed;
        if (reached)
            return rule.refuted(
                "another user's unprivileged process got through to the target: SIGTERM {other_user_sigterm}, ptrace "
                "{other_user_ptrace}",
                "another user signalled or traced the target");
    }
    if (measured == 0 && !same)
        return rule.not_measured("{runaways} runaways could run and no same-user prober could be set up",
                                 "nothing measured");
    std::string evidence;
    if (measured > 0) {
        rule.use(count_fact("runaways_a_limit_can_stop", stoppable,
                            "runaways a limit can stop (memory, processes, files, CPU time)"));
        rule.use(count_fact("runaways_stopped_by_limit", stopped,
                            "of them, stopped by their limit rather than the demo's cap"));
        rule.use(text_fact("sibling_losses", fmt::format("{}", fmt::join(losses, ", ")),
                           "the siblings' worst loss of progress beside each runaway"));
        rule.use(number_fact("worst_sibling_loss", worst->sibling_loss(), "fraction",
                             "the siblings' worst loss beside any runaway"));
        rule.use(text_fact("worst_runaway", std::string(id(worst->kind)), "the runaway it was beside"));
        evidence =
            "{runaways_stopped_by_limit of runaways_a_limit_can_stop} runaways a limit can stop were stopped by it; "
            "beside "
            "{runaways} runaways the siblings gave up at most {worst_sibling_loss} of their progress (beside "
            "{worst_runaway}; each: "
            "{sibling_losses})";
    } else {
        evidence = "{runaways} runaways could run";
    }
    if (other)
        evidence +=
            "; another user's unprivileged process tried SIGTERM ({other_user_sigterm}), ptrace ({other_user_ptrace}), "
            "setpriority ({other_user_renice}) and prlimit ({other_user_prlimit})";
    // Either shortfall makes it nuanced; where both happened, the sentence names both.
    if (!capped.empty())
        rule.use(text_fact("only_demo_cap_stopped", fmt::format("{}", fmt::join(capped, ", ")),
                           "runaways only the demo's own cap ended"));
    if (!stalled.empty()) {
        rule.use(text_fact("stalled_beside", fmt::format("{}", fmt::join(stalled, ", ")),
                           "runaways beside which a sibling made no progress"));
        const std::string also_capped =
            capped.empty() ? "" : ", and only the demo's own cap ended {only_demo_cap_stopped}";
        return rule.nuanced(
            evidence + "; but a sibling made no progress in the window beside {stalled_beside}" + also_capped,
            "a sibling stalled beside {stalled_beside}");
    }
    if (!capped.empty())
        return rule.nuanced(
            evidence + "; but only the demo's own cap ended {only_demo_cap_stopped}",
            "{runaways_stopped_by_limit of runaways_a_limit_can_stop} stopped by a limit; the demo's cap ended "
            "{only_demo_cap_stopped}");
    const std::string summary =
        measured > 0 ? "{runaways_stopped_by_limit of runaways_a_limit_can_stop} runaways stopped by their limit, "
                       "siblings' worst loss {worst_sibling_loss}"
                     : "{runaways} runaways";
    if (same) {
        const auto allowed = allowed_of(*same, controls);
        if (!allowed.empty()) {
            rule.use(text_fact("same_user_allowed", fmt::format("{}", fmt::join(allowed, ", ")),
                               "what a process of the same user was allowed to do to another"));
            return rule.nuanced(
                evidence +
                    "; but between processes of one user the kernel allowed {same_user_allowed}: programs are "
                    "isolated from other users, and from each other's excess only by limits",
                summary + "; the same user allowed {same_user_allowed}");
        }
    }
    return rule.confirmed(evidence, summary);
}

}  // namespace

// "Would be refuted by" names only what this run tried: a relationship that could not be set up
// (another user, as nobody) refutes nothing here, and the line says so.
Decision decide_p3(const std::vector<RelationshipRun>& runs) {
    Decision d = p3_rule(runs);
    std::vector<std::string> tried, not_set_up;
    for (const auto& r : runs) {
        if (r.relationship.entitled) continue;
        (r.measured ? tried : not_set_up).push_back(r.relationship.id);
    }
    if (!tried.empty())
        d.refuted_by =
            fmt::format("memory reached by a prober without ptrace rights in a relationship this run set up ({}){}",
                        fmt::join(tried, ", "),
                        not_set_up.empty() ? "" : fmt::format("; not set up here: {}", fmt::join(not_set_up, ", ")));
    return d;
}

Decision decide_p1(const std::vector<RelationshipRun>& runs, const std::vector<RunawayRun>& runaways) {
    Decision d = p1_rule(runs, runaways);
    if (!find(runs, "other_user")) {
        const auto it = std::find_if(runs.begin(), runs.end(),
                                     [](const RelationshipRun& r) { return r.relationship.id == "other_user"; });
        d.refuted_by = fmt::format("a sibling dying beside a runaway (another user's process was not tried here{})",
                                   it != runs.end() && !it->why_not.empty() ? ": " + it->why_not : "");
    }
    return d;
}

}  // namespace proclab::isolation_matrix
