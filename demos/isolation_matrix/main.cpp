// isolation_matrix: who can do what to whom, and whether one process's excess harms another, for
// claims P1 and P3 of ../shared/seed/claims.md.
//
//   P1  Processes exist to isolate programs.
//   P3  Processes have no access to each other's address spaces; the OS enforces this.
//
// Method, all of it attempted for real (matrix.hpp, runaway.hpp; the rules in verdicts.hpp):
//   1. The matrix. For each relationship this process can set up (as root: same user, a
//      non-dumpable target, another user both ways, a prober in a new PID namespace, a prober in
//      a new user namespace; unprivileged: the same-user ones), a target child (a secret in its
//      memory, a private temporary file open, a POSIX shared-memory segment of mode 0600, a
//      SIGTERM handler so it lives) and a prober child; the prober tries 15 actions (see it,
//      signal it, read and write its memory three ways, trace it, read its environ and maps, open
//      its fd, set its nice value, affinity and limits to what they already are, open its
//      segment) and each lands as allowed or refused with the errno the kernel gave.
//   2. Runaway neighbours. Two siblings do steady CPU work; one child runs away (memory under
//      RLIMIT_AS, a fork loop under RLIMIT_NPROC as an unprivileged uid, file descriptors under
//      RLIMIT_NOFILE, CPU threads at nice 0; in a cgroup v2 memory or cpu limit where one can be
//      made); the siblings' progress before, during and after, and what stopped the runaway.
//
// Caveats: what is allowed depends on uid, capabilities, dumpable, Yama's ptrace_scope (read and
// stated, never changed) and namespaces; a container may drop capabilities even for root. Nothing
// outside the demo's own children is changed: the limits are set in the runaway children only.

#include "isolation_matrix/matrix.hpp"
#include "isolation_matrix/runaway.hpp"
#include "isolation_matrix/verdicts.hpp"

#include "proclab/child.hpp"
#include "proclab/demo.hpp"
#include "proclab/render.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::isolation_matrix {

Result run(const DemoContext& ctx) {
    Result result;
    const bool root = ::geteuid() == 0;

    // 1. The matrix.
    std::vector<RelationshipRun> runs;
    int index = 0;
    for (const auto& r : relationships(root)) runs.push_back(run_relationship(r, index++));

    std::vector<Column> columns{"action"};
    for (const auto& r : runs) columns.push_back(r.relationship.id);
    auto& mt = result.add_table("Who can do what to whom: each action tried by the prober against the target", columns);
    for (Action a : all_actions()) {
        std::vector<Cell> row{std::string(name(a))};
        for (const auto& r : runs) row.push_back(r.measured ? cell(r.at(a)) : "-");
        mt.rows.push_back(std::move(row));
    }
    std::vector<std::string> legend;
    for (const auto& r : runs)
        legend.push_back(r.measured ? fmt::format("{}: {}; prober {}, target {}{}", r.relationship.id, r.relationship.label, r.prober, r.target,
                                                  r.relationship.entitled ? " (the kernel grants the prober ptrace rights)" : "")
                                    : fmt::format("{}: not measured: {}", r.relationship.id, r.why_not));
    const MachineFact* yama = ctx.env.find("yama_ptrace_scope");
    const std::string yama_text = !yama ? "unknown" : yama->value ? *yama->value : "unknown (" + yama->unknown_reason + ")";
    mt.note = fmt::format(
        "Cells: allowed, or the errno of the refusal. Writes put back the bytes that were there and settings are set to the values "
        "they had, so an allowed change changes nothing. Yama ptrace_scope: {} (read, not changed). {}.",
        yama_text, fmt::join(legend, ". "));
    std::vector<std::string> reached, lost;
    for (const auto& r : runs)
        if (r.measured && r.at(Action::signal_term).outcome == Outcome::allowed)
            (r.sigterm_arrived ? reached : lost).push_back(r.relationship.id);
    if (!reached.empty())
        result.notes.push_back(fmt::format("Where kill(pid, SIGTERM) was allowed, the target's handler saw it: {}.", fmt::join(reached, ", ")));
    for (const auto& r : runs)
        if (r.measured && r.relationship.prober_pid_namespace && r.at(Action::see_signal0).outcome == Outcome::refused &&
            r.at(Action::read_procmem).outcome == Outcome::allowed)
            result.notes.push_back(fmt::format(
                "{}: the new PID namespace hides the target from every call that takes a pid ({}), but not from the /proc mounted "
                "outside it: /proc/PID/mem, environ, maps and fds stayed open to a prober with the right. A container mounts its own "
                "/proc for that reason.",
                r.relationship.id, cell(r.at(Action::see_signal0))));
    if (!lost.empty())
        result.notes.push_back(fmt::format("kill(2) returned 0 but the target's handler never saw the SIGTERM: {}.", fmt::join(lost, ", ")));

    // 2. Runaway neighbours.
    RunawayOptions options;
    options.window_s = ctx.options.quick ? 0.1 : 0.3;
    options.cpus = static_cast<int>(std::max<std::size_t>(1, ctx.env.affinity_cpus.size()));
    const auto runaways = run_runaways(options);
    auto& rt = result.add_table("A runaway beside two siblings doing steady work",
                                {"runaway", "mechanism", "what ended it", "siblings before", "during", "after",
                                 {"siblings' loss", "fraction"}, "ended by"});
    for (const auto& r : runaways) {
        if (!r.measured) {
            rt.rows.push_back({r.what, r.mechanism, "not measured: " + r.why_not, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}});
            continue;
        }
        auto rates = [](const Progress& p) { return fmt::format("{:.0f} / {:.0f}", p.rate[0], p.rate[1]); };
        rt.rows.push_back({r.what, r.mechanism, r.stopped_by, rates(r.before), rates(r.during), rates(r.after), r.sibling_loss(),
                           !r.siblings_alive       ? "a sibling died"
                           : !r.stoppable()        ? "the demo (a CPU hog has no limit to stop it)"
                           : r.hard_cap_hit        ? "the demo's own cap"
                           : r.stopped_by_limit()  ? "its limit"
                                                   : "-"});
        result.add_metric(fmt::format("sibling_loss_{}", id(r.kind)), r.sibling_loss(), "ratio",
                          fmt::format("the siblings' worst loss of progress while a runaway ran ({})", r.what));
    }
    rt.note = fmt::format(
        "Sibling progress in work chunks (~20 µs of CPU each) per second, each sibling, over {:.1f} s before the runaway starts, "
        "while it runs and after it is gone. {} CPU{} allowed: a runaway that also burns CPU (the memory and process loops touch "
        "pages and fork) takes its fair share of them, which is what the siblings lose; the CPU runaway runs one thread per CPU. "
        "Every runaway has a hard cap of its own (bytes, processes, opens) besides the limit under test.",
        options.window_s, options.cpus, options.cpus == 1 ? "" : "s");
    const auto limits = inherited_limits();
    result.notes.push_back(limits.empty() ? "No limit found on this process's own cgroup."
                                          : fmt::format("Limits on this process's own cgroup (set by the container or the service manager, "
                                                        "not by the demo): {}.",
                                                        fmt::join(limits, "; ")));
    if (const MachineFact* container = ctx.env.find("container"); container && container->value && container->value->rfind("yes", 0) == 0)
        result.notes.push_back("In a container: its runtime may drop capabilities (even root's), filter system calls (seccomp: "
                               "unshare, ptrace) and set the cgroup limits above; the matrix shows what it left.");

    // The raw series, for the report's colour grid.
    Json rel = Json::array();
    for (const auto& r : runs) {
        Json attempts = Json::array();
        for (Action a : all_actions())
            attempts.push_back({{"action", std::string(name(a))}, {"column", std::string(column(a))},
                                {"outcome", r.at(a).outcome == Outcome::allowed ? "allowed" : r.at(a).outcome == Outcome::refused ? "refused" : "not_tried"},
                                {"errno", r.at(a).outcome == Outcome::refused ? Json(errno_name(r.at(a).err)) : Json(nullptr)}});
        rel.push_back({{"id", r.relationship.id}, {"label", r.relationship.label}, {"measured", r.measured}, {"why_not", r.why_not},
                       {"prober", r.prober}, {"target", r.target}, {"entitled", r.relationship.entitled}, {"attempts", std::move(attempts)}});
    }
    Json run_json = Json::array();
    for (const auto& r : runaways)
        run_json.push_back({{"what", r.what}, {"measured", r.measured}, {"why_not", r.why_not}, {"mechanism", r.mechanism},
                            {"stopped_by", r.stopped_by}, {"contained", r.contained}, {"hard_cap_hit", r.hard_cap_hit},
                            {"siblings_alive", r.siblings_alive}, {"before", r.before.rate}, {"during", r.during.rate},
                            {"after", r.after.rate}, {"loss", r.sibling_loss()}});
    result.raw = Json{{"euid", ::geteuid()}, {"relationships", std::move(rel)}, {"runaways", std::move(run_json)}};

    result.add_decision(decide_p1(runs, runaways));
    result.add_decision(decide_p3(runs));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "isolation_matrix";
    s.title = "who can do what to whom (signal, trace, read memory, set limits), and whether a runaway harms its neighbours";
    s.claims = {"P1", "P3"};
    s.rules = {kP1Rule, kP3Rule};
    s.default_timeout_s = 120;
    s.run = run;
    return s;
}

}  // namespace proclab::isolation_matrix

PROCLAB_DEMO_MAIN(proclab::isolation_matrix::spec)
