#include "report.hpp"

#include "glossary.hpp"
#include "html.hpp"
#include "plots.hpp"

#include "proclab/claims.hpp"
#include "proclab/output_file.hpp"
#include "proclab/spawn.hpp"

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {
namespace {

std::string machine_line(const Environment& env) {
    auto fact = [&](const char* key) {
        const MachineFact* f = env.find(key);
        return f && f->value ? *f->value : std::string("unknown");
    };
    // A cgroup CPU quota is the CPUs' capacity: shown beside them.
    const std::string quota =
        env.cpu_quota_cpus ? fmt::format("; CPU quota (cgroup): {}", format_value(*env.cpu_quota_cpus, "CPUs")) : "";
    return fmt::format("{} ({}{}; virtual machine: {}; kernel {})", fact("cpu_model"), fact("affinity_cpus"), quota,
                       fact("hypervisor"), fact("kernel_release"));
}

}  // namespace

View report_view(const ReportContent& r) {
    View v;
    v.title = "proclab report: what the notes' claims turned out to be on this machine";
    v.paragraph(fmt::format(
        "proclab {}, {} run, {:.1f} s in all, on {}. A word the report uses before defining it links to the glossary "
        "at the end.",
        PROCLAB_VERSION, r.quick ? "a --quick" : "a full", r.wall_s, machine_line(*r.env)));

    v.heading("The claims");
    ViewTable claims{.columns = {"id", "the notes say", "verdict", "evidence", "measured by"}, .cards = true};
    for (const auto& c : *r.rows)
        claims.rows.push_back({c.id, c.statement, verdict_cell(c.verdict), c.evidence,
                               c.demos.empty() ? "-" : fmt::format("{}", fmt::join(c.demos, ", "))});
    v.table(std::move(claims));
    v.note(
        "A claim measured by several demos gets one verdict: any refuted makes it refuted, else any nuanced makes it "
        "nuanced, else any confirmed makes it confirmed, else not-measured (docs/schema.md).");

    v.heading("Why: each demo's reasons");
    for (const auto& c : *r.rows) {
        std::vector<std::string> reasons = c.reasons.empty() ? std::vector{c.evidence} : c.reasons;
        for (const auto& refuted_by : c.refuted_by) reasons.push_back("would be refuted by: " + refuted_by);
        v.add(fold(c.id + ": " + c.statement, {items_block(std::move(reasons))}, c.verdict));
    }

    if (r.baseline) {
        View against = view_of(*r.baseline, false);
        against.title = "Against the baseline";
        v.section(against);
    }

    v.heading("Plots");
    if (r.plots.empty()) v.paragraph(r.plots_note);
    for (const auto& p : r.plots) {
        const std::string name = p.filename().string();
        v.add(figure_block(plot_caption(*r.runs, name), "plots/" + name, p.string()));
    }

    v.heading("The demos");
    ViewTable demos{.columns = {"demo", "status", "wall time", "detail"}};
    for (const auto& run : *r.runs)
        demos.rows.push_back(
            {run.name, std::string(to_string(run.status)), fmt::format("{:.2f} s", run.wall_s), run.detail});
    v.table(std::move(demos));
    for (const auto& run : *r.runs) {
        if (!run.result) continue;
        std::vector<Block> evidence;
        for (const auto& t : run.result->tables) evidence.push_back(result_table_block(t));
        for (const auto& n : run.result->notes) evidence.push_back(note_block(n));
        v.add(fold(fmt::format("{}: its evidence ({:.2f} s)", run.name, run.wall_s), std::move(evidence)));
    }

    if (r.crosscheck) {
        v.heading("Crosscheck: proclab beside perf bench, stress-ng, cyclictest and hackbench");
        v.note(fmt::format(
            "The same quantities measured by the field's tools, everything pinned to one CPU (proclab crosscheck). "
            "proclab's figures here are crosscheck's own runs of the demos, in {} turns alternating with each "
            "tool's, not the tables above; a row is judged only where each side's turns spread within ±{:.0f}%.",
            kTurns, 100 * kAgreement));
        v.section(view_of(*r.crosscheck));
    }

    v.heading("The machine");
    ViewTable facts{.columns = {"fact", "value"}};
    for (const auto& f : r.env->facts) facts.rows.push_back({f.label, f.shown()});
    v.table(std::move(facts));

    v.heading("Reproduce");
    v.code(
        fmt::format("./setup.sh run                          # the whole suite and this report\n"
                    "build/release/bin/proclab report DIR    # again, into DIR\n"
                    "{} plot_report.py suite.json plots  # the plots again, in this folder",
                    r.python.empty() ? "/usr/bin/python3" : r.python));
    return v;
}

ReportOutcome write_report(const std::filesystem::path& dir, const Environment& env, const std::vector<DemoRun>& runs,
                           const std::vector<ClaimRow>& rows, double wall_s, bool quick,
                           const std::optional<std::vector<CrosscheckPair>>& crosscheck, const Comparison* baseline,
                           const std::vector<CacheLineHandoff>& line_floors) {
    ReportOutcome out;
    std::filesystem::create_directories(dir / "plots");
    const auto json_path = dir / "suite.json";
    {
        OutputFile json(json_path.string());
        if (!json.error().empty()) throw std::runtime_error(json.error());  // the reason is in the text
        Json j = suite_json(env, runs, rows, line_floors);
        if (crosscheck) j["crosscheck"] = crosscheck_json(*crosscheck);
        json.commit(j.dump(2) + "\n");
    }
    const auto script = dir / "plot_report.py";
    {
        OutputFile file(script.string());
        file.commit(plot_script());
    }
    const auto python = python_with_matplotlib();
    if (python.empty()) {
        out.plots_note =
            "No plots: no python3 with matplotlib was found. Install it (Debian: apt-get install "
            "python3-matplotlib) and run /usr/bin/python3 plot_report.py suite.json plots in this folder.";
    } else {
        auto run = run_captured(python, {script.string(), json_path.string(), (dir / "plots").string()},
                                {.timeout = std::chrono::seconds(120)});
        if (!run.status.exited() || run.status.exit_code() != 0)
            out.plots_note = fmt::format("The plotting script failed ({}): {}", run.status.describe(), run.err);
        std::istringstream lines(run.out);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) out.plots.emplace_back(line);
    }
    const View view = report_view({.env = &env,
                                   .runs = &runs,
                                   .rows = &rows,
                                   .plots = out.plots,
                                   .plots_note = out.plots_note,
                                   .wall_s = wall_s,
                                   .quick = quick,
                                   .crosscheck = crosscheck ? &*crosscheck : nullptr,
                                   .baseline = baseline,
                                   .python = python.string()});
    OutputFile md((dir / "report.md").string());
    md.commit(link_first_uses_markdown(render_markdown(view)) + "\n" + glossary_markdown(false));
    OutputFile html((dir / "report.html").string());
    html.commit(report_html(view));
    return out;
}

}  // namespace proclab::suite
