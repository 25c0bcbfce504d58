#include "suite.hpp"

#include "proclab/units.hpp"
#include "proclab/claims.hpp"
#include "proclab/clock.hpp"
#include "proclab/exit_codes.hpp"
#include "proclab/spawn.hpp"

#include <ctime>
#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <csignal>
#include <thread>

#include <fmt/format.h>
#include <sys/wait.h>

namespace proclab::suite {

std::filesystem::path demo_directory(const std::filesystem::path& runner_dir) {
    const std::string probe = demo_names().front();
    if (const char* env = std::getenv("PROCLAB_DEMO_DIR"); env && *env) {
        if (!std::filesystem::exists(std::filesystem::path(env) / probe))
            throw std::runtime_error(fmt::format("PROCLAB_DEMO_DIR={}: no {} there", env, probe));
        return env;
    }
    const std::filesystem::path installed = runner_dir / PROCLAB_INSTALLED_DEMO_DIR;
    for (const auto& dir : {runner_dir, installed})
        if (std::filesystem::exists(dir / probe)) return dir;
    throw std::runtime_error(
        fmt::format("the demos are not where the runner looks: {} nor {} has {} (set PROCLAB_DEMO_DIR)",
                    runner_dir.string(), installed.lexically_normal().string(), probe));
}

const std::vector<std::string>& demo_names() {
    static const std::vector<std::string> names{
#include "proclab/demo_list.inc"
    };
    return names;
}

std::string_view to_string(RunStatus s) {
    switch (s) {
        case RunStatus::ok: return "ok";
        case RunStatus::failed: return "failed";
        case RunStatus::crashed: return "crashed";
        case RunStatus::timed_out: return "timed out";
        case RunStatus::bad_output: return "bad output";
    }
    return "?";
}

namespace {

std::string last_line(const std::string& text) {
    auto end = text.find_last_not_of("\n ");
    if (end == std::string::npos) return "";
    auto start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1,
                       end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

int reap_strays(pid_t group) {
    int strays = 0;
    if (group <= 0) return 0;  // no group: -group would name init or every process
    if (::kill(-group, 0) == 0) ::kill(-group, SIGKILL);
    for (int tries = 0; tries < 200; ++tries) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            ++strays;
            continue;
        }
        if (pid < 0 && errno == ECHILD) break;
        if (::kill(-group, 0) != 0 && pid == 0) break;  // nothing alive, nothing to reap
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return strays;
}

std::optional<DemoDescription> describe_demo(const std::filesystem::path& dir, const std::string& name) {
    try {
        auto run = run_captured(dir / name, {"--describe"}, {.timeout = std::chrono::seconds(10)});
        if (!run.status.exited() || run.status.exit_code() != 0) return std::nullopt;
        auto j = Json::parse(run.out);
        return DemoDescription{j.at("demo").get<std::string>(), j.at("title").get<std::string>(),
                               j.at("claims").get<std::vector<std::string>>(),
                               j.value("rules", std::vector<RuleInfo>{})};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

DemoRun run_demo(const std::filesystem::path& dir, const std::string& name, const std::vector<std::string>& extra,
                 double hard_timeout_s) {
    DemoRun out;
    out.name = name;
    std::vector<std::string> args{"--json", "-"};
    args.insert(args.end(), extra.begin(), extra.end());
    CapturedRun run;
    try {
        run = run_captured(dir / name, args,
                           {.timeout = std::chrono::milliseconds(static_cast<long>(hard_timeout_s * 1000)),
                            .new_process_group = true});
    } catch (const std::exception& e) {
        out.status = RunStatus::failed;
        out.detail = fmt::format("could not start: {}", e.what());
        return out;
    }
    out.wall_s = run.wall_s;
    out.stray_processes = reap_strays(run.pid);
    if (run.timed_out) {
        out.status = RunStatus::timed_out;
        out.detail = fmt::format("killed after {:.0f} s", hard_timeout_s);
    } else if (run.status.signaled()) {
        out.status = RunStatus::crashed;
        out.detail = run.status.describe();
    } else if (run.status.exit_code() == kExitTimeout) {  // the demo's own --timeout
        out.status = RunStatus::timed_out;
        out.detail = fmt::format("{}: {}", run.status.describe(), last_line(run.err));
    } else if (run.status.exit_code() != kExitOk &&
               run.status.exit_code() != kExitRefuted) {  // 1: refuted under --strict
        out.status = RunStatus::failed;
        out.detail = fmt::format("{}: {}", run.status.describe(), last_line(run.err));
    }
    if (out.status != RunStatus::ok) return out;
    try {
        out.result = result_from_json(Json::parse(run.out));
    } catch (const std::exception& e) {
        out.status = RunStatus::bad_output;
        out.detail = fmt::format("its JSON did not parse: {}", e.what());
        out.result.reset();
    }
    return out;
}

std::vector<ClaimRow> claim_rows(const std::vector<DemoRun>& runs, const std::vector<DemoDescription>& described) {
    std::vector<ClaimRow> rows;
    for (const auto& claim : all_claims()) {
        ClaimRow row;
        row.id = std::string(claim.id);
        row.statement = std::string(claim.statement);
        std::vector<Verdict> verdicts;
        std::vector<std::string> evidence;
        for (const auto& run : runs) {
            if (run.result) {
                if (const auto* v = run.result->verdict_for(claim.id)) {
                    verdicts.push_back(v->verdict);
                    row.demos.push_back(run.name);
                    evidence.push_back(v->summary_text());
                    row.reasons.push_back(
                        fmt::format("{} ({}): {}", run.name, to_string(v->verdict), v->reason_text()));
                    if (!v->refuted_by.empty())
                        row.refuted_by.push_back(
                            fmt::format("{} ({}{})", v->refuted_by, run.name,
                                        v->guarantee ? "; a guarantee of Linux, demonstrated" : ""));
                }
                continue;
            }
            // A failed demo: find out from its description whether it would have covered the claim.
            auto d =
                std::find_if(described.begin(), described.end(), [&](const auto& x) { return x.name == run.name; });
            if (d != described.end() && std::find(d->claims.begin(), d->claims.end(), claim.id) != d->claims.end()) {
                verdicts.push_back(Verdict::not_measured);
                row.demos.push_back(run.name);
                evidence.push_back(fmt::format("{} {}: {}", run.name, to_string(run.status), run.detail));
                row.reasons.push_back(evidence.back());
            }
        }
        row.verdict = combine_verdicts(verdicts);
        if (row.demos.empty()) {
            row.evidence = "no demo in this run covers this claim";
        } else if (evidence.size() == 1) {
            row.evidence = evidence.front();
        } else {
            std::vector<std::string> labelled;
            for (std::size_t i = 0; i < evidence.size(); ++i) labelled.push_back(row.demos[i] + ": " + evidence[i]);
            row.evidence = fmt::format("{}", fmt::join(labelled, " | "));
            // Demos that disagree: the line says whose verdict the claim took, and by which rule.
            if (std::any_of(verdicts.begin(), verdicts.end(), [&](Verdict v) { return v != verdicts.front(); })) {
                std::vector<std::string> deciders, others;
                for (std::size_t i = 0; i < verdicts.size(); ++i)
                    (verdicts[i] == row.verdict ? deciders : others)
                        .push_back(fmt::format("{} {}", row.demos[i], to_string(verdicts[i])));
                row.evidence += fmt::format(
                    " (the demos disagree: {} against {}; the claim takes the first verdict of refuted, nuanced, "
                    "confirmed that a demo gave)",
                    fmt::join(deciders, ", "), fmt::join(others, ", "));
            }
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string render_claims(const std::vector<ClaimRow>& rows, bool colour, int width) {
    std::size_t statement_width = 0;
    for (const auto& r : rows) statement_width = std::max(statement_width, display_width(r.statement));
    std::string out;
    const std::string indent(20, ' ');  // under the statement column
    const auto w = static_cast<std::size_t>(std::max(40, width));
    std::vector<std::string> outside;  // claims no demo of this run covers: one line for them all
    for (const auto& r : rows) {
        if (r.demos.empty()) {
            outside.push_back(r.id);
            continue;
        }
        const auto verdict = colour_verdict(r.verdict, colour);
        const std::string demos =
            fmt::format("[{}]", r.demos.empty() ? "-" : fmt::format("{}", fmt::join(r.demos, ", ")));
        const std::string head = fmt::format("  {:<3} {}{} ", r.id, verdict,
                                             std::string(13 - std::min<std::size_t>(13, display_width(verdict)), ' '));
        if (indent.size() + statement_width + 2 + display_width(demos) <= w) {
            out += fmt::format("{}{}{}  {}\n", head, r.statement,
                               std::string(statement_width - display_width(r.statement), ' '), demos);
        } else {  // a narrow terminal: the demos on a line of their own
            out += head + wrap(r.statement, w, indent) + "\n";
            out += indent + wrap(demos, w, indent) + "\n";
        }
        out += indent + wrap(r.evidence, static_cast<std::size_t>(std::max(40, width)), indent) + "\n";
        for (const auto& refuted_by : r.refuted_by)
            out += indent +
                   wrap("would be refuted by: " + refuted_by, static_cast<std::size_t>(std::max(40, width)), indent) +
                   "\n";
    }
    if (!outside.empty())
        out += "  " +
               wrap(fmt::format("Not measured in this run, no demo of it covering them: {} (`proclab run` runs "
                                "every demo; the JSON lists each claim)",
                                fmt::join(outside, ", ")),
                    w, "  ") +
               "\n";
    return out;
}

namespace {
std::string outcomes_text(const RuleInfo& r) {
    std::string out;
    for (const auto& o : r.outcomes)
        out += fmt::format("{}**{}**: {} (reached by the test \"{}\")", out.empty() ? "" : "; ", to_string(o.verdict),
                           o.when, o.reached_by.empty() ? "none: a defect" : o.reached_by);
    return out;
}
}  // namespace

std::string render_rules(const std::vector<RuleInfo>& rules, int width) {
    std::string out;
    const auto w = static_cast<std::size_t>(std::max(40, width));
    const std::string indent(6, ' ');
    for (const auto& r : rules) {
        out += fmt::format("{} ({}){}\n", r.claim, r.demo, r.guarantee ? ": a guarantee of Linux, demonstrated" : "");
        out += indent + wrap("reads: " + r.evidence, w, indent) + "\n";
        out += indent + wrap("would be refuted by: " + r.refuted_by, w, indent) + "\n";
        for (const auto& o : r.outcomes) {
            out += indent + wrap(fmt::format("{}: {}", to_string(o.verdict), o.when), w, indent) + "\n";
            out += indent + "  " +
                   wrap("reached by the test: " + (o.reached_by.empty() ? "none (a defect)" : o.reached_by), w,
                        indent + "  ") +
                   "\n";
        }
    }
    return out;
}

std::string rules_markdown(const std::vector<RuleInfo>& rules) {
    std::string md =
        "# Verdict rules\n\n"
        "Generated by `proclab rules --markdown` from each demo's rules (a test keeps this page equal to that output). "
        "For every "
        "claim of docs/claims.md and every demo that votes on it: the evidence the rule reads, the observation that "
        "would refute the claim, and the verdicts the rule can reach on Linux with the observation behind each and the "
        "test (a "
        "test case of tests/, run by ctest) that reaches it; the docs test rules.every_outcome_reached fails on an "
        "outcome no test "
        "reaches. A *guarantee* is "
        "something Linux (POSIX, the kernel's design) promises: the demo shows it happening, it is not a test that "
        "could fail on a "
        "working kernel. Several demos on one claim combine as docs/schema.md states.\n\n"
        "| claim | demo | the rule reads | would be refuted by | verdicts it can reach |\n|---|---|---|---|---|\n";
    for (const auto& r : rules)
        md += fmt::format("| {} | {}{} | {} | {} | {} |\n", r.claim, r.demo, r.guarantee ? " (a guarantee)" : "",
                          markdown_cell(r.evidence), markdown_cell(r.refuted_by), markdown_cell(outcomes_text(r)));
    return md;
}

std::string render_demo_runs(const std::vector<DemoRun>& runs, std::size_t width) {
    TextTable t({"demo", "status", "wall time", "detail"});
    for (const auto& r : runs)
        t.add_row({r.name, std::string(to_string(r.status)), fmt::format("{:.2f} s", r.wall_s),
                   r.stray_processes ? fmt::format("left {} behind (killed and reaped); {}",
                                                   counted(r.stray_processes, "process", "processes"), r.detail)
                                     : r.detail});
    return t.render("  ", width);
}

namespace {
// When a run was recorded, UTC, ISO 8601 to the second: the date docs quote beside its figures.
std::string utc_now_iso8601() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}
}  // namespace

std::vector<CacheLineHandoff> measure_line_floors(const std::vector<int>& allowed, double budget_s) {
    std::vector<CacheLineHandoff> floors;
    const double overhead = calibrate_clock().read_overhead_ns;
    const Stopwatch clock;
    for (const auto& [a, b] : suite_floor_pairs(allowed)) {
        if (clock.elapsed_s() > budget_s) break;
        try {
            floors.push_back(measure_handoff(a, b, kFloorBatches, overhead));
        } catch (const std::exception&) {
            // A CPU that cannot be pinned to (a mask changed under us): the demo measures its own.
        }
    }
    return floors;
}

std::string describe_line_floors(const std::vector<CacheLineHandoff>& line_floors) {
    if (line_floors.empty()) return "";
    if (line_floors.size() == 1)
        return fmt::format("CPUs {} and {}: {}", line_floors[0].a, line_floors[0].b,
                           format_value(line_floors[0].one_way_min_ns, "ns"));
    const auto [lo, hi] = std::minmax_element(line_floors.begin(), line_floors.end(), [](const auto& x, const auto& y) {
        return x.one_way_min_ns < y.one_way_min_ns;
    });
    return fmt::format("{} pairs with CPU {}: {} to {}", line_floors.size(), line_floors[0].a,
                       format_value(lo->one_way_min_ns, "ns"), format_value(hi->one_way_min_ns, "ns"));
}

Json suite_json(const Environment& env, const std::vector<DemoRun>& runs, const std::vector<ClaimRow>& rows,
                const std::vector<CacheLineHandoff>& line_floors) {
    Json j;
    j["schema_version"] = kSchemaVersion;
    j["proclab_version"] = PROCLAB_VERSION;
    j["kind"] = "suite";
    j["recorded_at"] = utc_now_iso8601();
    Json claims = Json::array();
    for (const auto& r : rows)
        claims.push_back(Json{{"id", r.id},
                              {"statement", r.statement},
                              {"verdict", to_string(r.verdict)},
                              {"demos", r.demos},
                              {"evidence", r.evidence},
                              {"reasons", r.reasons},
                              {"refuted_by", r.refuted_by}});
    j["claims"] = std::move(claims);
    Json demos = Json::array();
    for (const auto& r : runs) {
        Json d{{"name", r.name},
               {"status", to_string(r.status)},
               {"detail", r.detail},
               {"wall_s", r.wall_s},
               {"stray_processes", r.stray_processes}};
        d["result"] = r.result ? Json(*r.result) : Json(nullptr);
        demos.push_back(std::move(d));
    }
    j["demos"] = std::move(demos);
    j["environment"] = env;
    Json floors = Json::array();
    for (const auto& h : line_floors)
        floors.push_back(
            Json{{"a", h.a}, {"b", h.b}, {"one_way_min_ns", h.one_way_min_ns}, {"one_way_ns", h.one_way_ns}});
    j["line_floors"] = std::move(floors);
    return j;
}

SuiteDocument suite_from_json(const Json& j) {
    if (!j.is_object() || j.value("kind", "") != "suite")
        throw std::runtime_error(
            fmt::format("not a suite JSON (kind '{}'; made by 'proclab run --json' or 'proclab report')",
                        j.is_object() ? j.value("kind", "") : ""));
    SuiteDocument doc;
    doc.schema_version = j.value("schema_version", 0);
    require_readable_schema(doc.schema_version, "the suite JSON");
    doc.proclab_version = j.value("proclab_version", "");
    doc.environment = j.value("environment", Json::object()).get<Environment>();
    for (const auto& c : j.value("claims", Json::array())) {
        ClaimRow row;
        row.id = c.value("id", "");
        row.statement = c.value("statement", "");
        const auto v = verdict_from_string(c.value("verdict", ""));
        if (!v) throw std::runtime_error(fmt::format("claim {}: unknown verdict '{}'", row.id, c.value("verdict", "")));
        row.verdict = *v;
        row.demos = c.value("demos", std::vector<std::string>{});
        row.evidence = c.value("evidence", "");
        row.reasons = c.value("reasons", std::vector<std::string>{});
        row.refuted_by = c.value("refuted_by", std::vector<std::string>{});
        doc.rows.push_back(std::move(row));
    }
    for (const auto& d : j.value("demos", Json::array())) {
        DemoRun run;
        run.name = d.value("name", "");
        const std::string status = d.value("status", "ok");
        for (RunStatus s :
             {RunStatus::ok, RunStatus::failed, RunStatus::crashed, RunStatus::timed_out, RunStatus::bad_output})
            if (to_string(s) == status) run.status = s;
        run.detail = d.value("detail", "");
        run.wall_s = d.value("wall_s", 0.0);
        run.stray_processes = d.value("stray_processes", 0);
        if (d.contains("result") && d.at("result").is_object()) run.result = result_from_json(d.at("result"));
        doc.runs.push_back(std::move(run));
    }
    doc.crosscheck = j.value("crosscheck", Json());
    return doc;
}

bool emulated(const SuiteDocument& suite) {
    const MachineFact* f = suite.environment.find("emulated");
    return f && f->value && f->value->starts_with("yes");
}

}  // namespace proclab::suite
