// isolation_matrix's report (see report.hpp): every table and note from what was tried.
#include "isolation_matrix/report.hpp"

#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/render.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::isolation_matrix {

namespace {

// Who can do what to whom: one row per action, one column per relationship; and what the
// outcomes add (a SIGTERM that arrived or not, a PID namespace that hides less than it seems).
void add_matrix_table(Result& result, const DemoContext& ctx, const std::vector<RelationshipRun>& runs) {
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
        legend.push_back(
            r.measured
                ? fmt::format("{}: {}; prober {}, target {}{}", r.relationship.id, r.relationship.label, r.prober,
                              r.target,
                              r.relationship.entitled
                                  ? " (the kernel grants the prober ptrace rights: " + r.relationship.entitled_why + ")"
                                  : " (no ptrace rights: " + r.relationship.entitled_why + ")")
                : fmt::format("{}: not measured: {}", r.relationship.id, r.why_not));
    const MachineFact* yama = ctx.env.find("yama_ptrace_scope");
    const std::string yama_text = yama ? yama->shown() : "unknown";
    mt.note = fmt::format(
        "Cells: allowed, or the errno of the refusal. Writes put back the bytes that were there and settings are set "
        "to the values "
        "they had, so an allowed change changes nothing. Yama ptrace_scope: {} (read, not changed). {}.",
        yama_text, fmt::join(legend, ". "));
    std::vector<std::string> reached, lost;
    for (const auto& r : runs)
        if (r.measured && r.at(Action::signal_term).outcome == Outcome::allowed)
            (r.sigterm_arrived ? reached : lost).push_back(r.relationship.id);
    if (!reached.empty())
        result.notes.push_back(fmt::format("Where kill(pid, SIGTERM) was allowed, the target's handler saw it: {}.",
                                           fmt::join(reached, ", ")));
    for (const auto& r : runs)
        if (r.measured && r.relationship.prober_pid_namespace &&
            r.at(Action::see_signal0).outcome == Outcome::refused &&
            r.at(Action::read_procmem).outcome == Outcome::allowed)
            result.notes.push_back(
                fmt::format("{}: the new PID namespace hides the target from every call that takes a pid ({}), but not "
                            "from the /proc mounted "
                            "outside it: /proc/PID/mem, environ, maps and fds stayed open to a prober with the right. "
                            "A container mounts its own "
                            "/proc for that reason.",
                            r.relationship.id, cell(r.at(Action::see_signal0))));
    if (!lost.empty())
        result.notes.push_back(fmt::format("kill(2) returned 0 but the target's handler never saw the SIGTERM: {}.",
                                           fmt::join(lost, ", ")));
}

// A runaway beside two siblings: their progress before, during and after, and what ended it.
void add_runaway_table(Result& result, const DemoContext& ctx, const std::vector<RunawayRun>& runaways,
                       const RunawayOptions& options) {
    auto& rt = result.add_table("A runaway beside two siblings doing steady work", {"runaway",
                                                                                    "mechanism",
                                                                                    "what ended it",
                                                                                    "siblings before",
                                                                                    "during",
                                                                                    "after",
                                                                                    {"siblings' loss", "fraction"},
                                                                                    "ended by"});
    for (const auto& r : runaways) {
        if (!r.measured) {
            rt.rows.push_back(
                {r.what, r.mechanism, "not measured: " + r.why_not, Cell{}, Cell{}, Cell{}, Cell{}, Cell{}});
            continue;
        }
        auto rates = [](const Progress& p) { return fmt::format("{:.0f} / {:.0f}", p.rate[0], p.rate[1]); };
        rt.rows.push_back({r.what, r.mechanism, r.stopped_by, rates(r.before), rates(r.during), rates(r.after),
                           r.sibling_loss(),
                           !r.siblings_alive      ? "a sibling died"
                           : !r.stoppable()       ? fmt::format("the demo (a CPU hog has no limit to stop it{})",
                                                          r.controller_count > 0    ? "; cpu.max throttled it"
                                                                : r.controller_count == 0 ? "; cpu.max never throttled it"
                                                                                          : "")
                           : r.hard_cap_hit       ? "the demo's own cap"
                           : r.stopped_by_limit() ? "its limit"
                                                  : "-"});
        result.add_metric(fmt::format("sibling_loss_{}", id(r.kind)), r.sibling_loss(), "ratio",
                          fmt::format("the siblings' worst loss of progress while a runaway ran ({})", r.what));
    }
    rt.note = fmt::format(
        "Sibling progress in work chunks (~20 µs of CPU each) per second, each sibling, over {:.1f} s before the "
        "runaway starts, "
        "while it runs and after it is gone. {} CPU{} allowed: a runaway that also burns CPU (the memory and process "
        "loops touch "
        "pages and fork) takes its fair share of them, which is what the siblings lose; the CPU runaway runs one "
        "thread per CPU. "
        "Every runaway has a hard cap of its own (bytes, processes, opens) besides the limit under test.",
        options.window_s, options.cpus, options.cpus == 1 ? "" : "s");
    const auto limits = inherited_limits();
    result.notes.push_back(
        limits.empty()
            ? "No limit found on this process's own cgroup."
            : fmt::format("Limits on this process's own cgroup (set by the container or the service manager, "
                          "not by the demo): {}.",
                          fmt::join(limits, "; ")));
    if (ctx.env.in_container)
        result.notes.push_back(
            "In a container: its runtime may drop capabilities (even root's), filter system calls (seccomp: "
            "unshare, ptrace) and set the cgroup limits above; the matrix shows what it left.");
}

// The raw series, for the report's colour grid.
Json raw_series(const std::vector<RelationshipRun>& runs, const std::vector<RunawayRun>& runaways) {
    Json rel = Json::array();
    for (const auto& r : runs) {
        Json attempts = Json::array();
        for (Action a : all_actions())
            attempts.push_back(
                {{"action", std::string(name(a))},
                 {"column", std::string(column(a))},
                 {"outcome", r.at(a).outcome == Outcome::allowed   ? "allowed"
                             : r.at(a).outcome == Outcome::refused ? "refused"
                                                                   : "not_tried"},
                 {"errno", r.at(a).outcome == Outcome::refused ? Json(errno_name(r.at(a).err)) : Json(nullptr)}});
        rel.push_back({{"id", r.relationship.id},
                       {"label", r.relationship.label},
                       {"measured", r.measured},
                       {"why_not", r.why_not},
                       {"prober", r.prober},
                       {"target", r.target},
                       {"entitled", r.relationship.entitled},
                       {"entitled_why", r.relationship.entitled_why},
                       {"attempts", std::move(attempts)}});
    }
    Json run_json = Json::array();
    for (const auto& r : runaways)
        run_json.push_back({{"what", r.what},
                            {"measured", r.measured},
                            {"why_not", r.why_not},
                            {"mechanism", r.mechanism},
                            {"stopped_by", r.stopped_by},
                            {"contained", r.contained},
                            {"hard_cap_hit", r.hard_cap_hit},
                            {"controller_event", r.controller_event.empty() ? Json(nullptr) : Json(r.controller_event)},
                            {"controller_count", r.controller_count < 0 ? Json(nullptr) : Json(r.controller_count)},
                            {"siblings_alive", r.siblings_alive},
                            {"before", r.before.rate},
                            {"during", r.during.rate},
                            {"after", r.after.rate},
                            {"loss", r.sibling_loss()}});
    return Json{{"euid", ::geteuid()}, {"relationships", std::move(rel)}, {"runaways", std::move(run_json)}};
}

// Who can do what to whom: a grid of actions by relationships, in neutral greys (a finding, not
// good and bad); each cell says what happened.
std::optional<plot::Plot> matrix_plot(const std::vector<RelationshipRun>& runs) {
    if (runs.empty()) return std::nullopt;
    enum Shade { allowed, not_tried, refused };  // the palette's order
    plot::Cells grid{.palette = {"#f0f0f0", "#c8c8c8", "#4d4d4d"}};
    for (const auto& r : runs) {
        std::string column = r.relationship.id;
        std::replace(column.begin(), column.end(), '_', '\n');
        grid.columns.push_back(std::move(column));
    }
    bool first = true;
    for (Action a : all_actions()) {
        grid.rows.emplace_back(name(a));
        std::vector<std::optional<double>> values;
        std::vector<std::string> text;
        for (const auto& r : runs) {
            if (!r.measured) {
                values.push_back(not_tried);
                text.push_back(first ? "not measured" : "");
                continue;
            }
            const auto& at = r.at(a);
            values.push_back(at.outcome == Outcome::allowed   ? allowed
                             : at.outcome == Outcome::refused ? refused
                                                              : not_tried);
            text.push_back(at.outcome == Outcome::allowed   ? "allowed"
                           : at.outcome == Outcome::refused ? std::string(errno_name(at.err))
                                                            : "-");
        }
        grid.values.push_back(std::move(values));
        grid.text.push_back(std::move(text));
        first = false;
    }
    const double actions = double(grid.rows.size());
    return plot::Plot{
        .file = "isolation_matrix.png",
        .caption =
            "Who can do what to whom: each action by a prober in each relationship, allowed or refused "
            "(isolation_matrix, P1, P3).",
        .width = 3.2 + 1.35 * double(runs.size()),
        .height = 1.6 + 0.36 * actions,
        .panels = {
            {.title = "Who can do what to whom (isolation_matrix)\nlight: allowed; dark: refused, with the errno",
             .x = {.label = "the prober's relationship to the target"},
             .y = {.label = "what the prober tried"},
             .cells = std::move(grid)}}};
}

}  // namespace

void present(Result& result, const DemoContext& ctx, const std::vector<RelationshipRun>& runs,
             const std::vector<RunawayRun>& runaways, const RunawayOptions& options) {
    add_matrix_table(result, ctx, runs);
    add_runaway_table(result, ctx, runaways, options);
    result.raw = raw_series(runs, runaways);
    if (auto grid = matrix_plot(runs)) result.plots.push_back(std::move(*grid));
}

}  // namespace proclab::isolation_matrix
