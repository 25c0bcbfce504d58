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
std::string render_markdown(const Environment& env, const std::vector<DemoRun>& runs, const std::vector<ClaimRow>& rows,
                            const std::vector<std::string>& plots, const std::string& plots_note, double wall_s,
                            bool quick, const std::optional<std::vector<CrosscheckPair>>& crosscheck) {
    std::string md;
    md += "# proclab report: what the notes' claims turned out to be on this machine\n\n";
    md += fmt::format(
        "proclab {}, {} run, {:.1f} s in all. A word the report uses before defining it links to the "
        "[Glossary](#glossary) at the end.\n\n",
        PROCLAB_VERSION, quick ? "a --quick" : "a full", wall_s);
    md += "## The machine\n\n| fact | value |\n|---|---|\n";
    for (const auto& f : env.facts)
        md += fmt::format("| {} | {} |\n", markdown_cell(f.label), markdown_cell(f.shown()));
    md += "\n## The claims\n\n| id | the notes say | verdict | evidence | measured by |\n|---|---|---|---|---|\n";
    for (const auto& r : rows)
        md +=
            fmt::format("| {} | {} | **{}** | {} | {} |\n", r.id, markdown_cell(r.statement), to_string(r.verdict),
                        markdown_cell(r.evidence), r.demos.empty() ? "-" : fmt::format("{}", fmt::join(r.demos, ", ")));
    md +=
        "\nA claim measured by several demos gets one verdict: any refuted makes it refuted, else any nuanced makes it "
        "nuanced, else any confirmed makes it confirmed, else not-measured (docs/schema.md).\n\n## Why: each demo's "
        "reasons\n\n";
    for (const auto& r : rows) {
        md += fmt::format("### {}: {}\n\n", r.id, r.statement);
        if (r.reasons.empty()) md += "- " + r.evidence + "\n";
        for (const auto& reason : r.reasons) md += "- " + reason + "\n";
        for (const auto& refuted_by : r.refuted_by) md += "- *would be refuted by*: " + refuted_by + "\n";
        md += "\n";
    }
    md += "## The demos\n\n| demo | status | wall time | detail |\n|---|---|---|---|\n";
    for (const auto& run : runs)
        md += fmt::format("| {} | {} | {:.2f} s | {} |\n", run.name, to_string(run.status), run.wall_s,
                          markdown_cell(run.detail));
    // isolation_matrix's two tables, as a reader verifying a machine wants them on the page.
    for (const auto& run : runs) {
        if (run.name != "isolation_matrix" || !run.result) continue;
        md += "\n## Isolation: who can do what to whom, and runaway neighbours (isolation_matrix)\n";
        for (const auto& t : run.result->tables) {
            md += '\n';
            md += render_table_markdown(t);
        }
    }
    if (crosscheck) {
        md +=
            "\n## Crosscheck: proclab beside perf bench, stress-ng, cyclictest and hackbench\n\nThe same quantities "
            "measured by "
            "the field's tools, everything pinned to one CPU (`proclab crosscheck`). proclab's figures here are "
            "crosscheck's own "
            "runs of the demos, alternating with the tools', not the tables above.\n\n";
        md += render_markdown(view_of(*crosscheck), 2);
    }
    md += "\n## Plots\n\n";
    if (plots.empty()) md += plots_note + "\n";
    for (const auto& p : plots) {
        const std::string caption = plot_caption(runs, p);
        md += fmt::format("![{}](plots/{})\n\n*{}*\n\n", caption, p, caption);
    }
    md +=
        "\n## Reproduce\n\n```sh\n./setup.sh run                      # the whole suite and this "
        "report\nbuild/release/bin/proclab report DIR  # "
        "again, into DIR\npython3 plot_report.py suite.json plots   # the plots again, from this folder\n```\n";
    return md;
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
            "No plots: no python3 with matplotlib was found. Install it (Debian: `apt-get install "
            "python3-matplotlib`) and run `python3 plot_report.py suite.json plots` in this folder.";
    } else {
        auto run = run_captured(python, {script.string(), json_path.string(), (dir / "plots").string()},
                                {.timeout = std::chrono::seconds(120)});
        if (!run.status.exited() || run.status.exit_code() != 0)
            out.plots_note = fmt::format("The plotting script failed ({}): {}", run.status.describe(), run.err);
        std::istringstream lines(run.out);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) out.plots.emplace_back(line);
    }
    std::vector<std::string> names;
    for (const auto& p : out.plots) names.push_back(p.filename().string());
    std::string markdown = render_markdown(env, runs, rows, names, out.plots_note, wall_s, quick, crosscheck);
    if (baseline) {
        // A section of the report, its own sections one level down.
        View against = view_of(*baseline, false);
        against.title = "Against the baseline";
        const auto plots_at = markdown.find("\n## Plots");
        markdown.insert(plots_at == std::string::npos ? markdown.size() : plots_at, "\n" + render_markdown(against, 2));
    }
    markdown = link_first_uses_markdown(markdown) + "\n" + glossary_markdown(false);
    OutputFile md((dir / "report.md").string());
    md.commit(markdown);
    HtmlReport html_report{
        &env, &runs, &rows, out.plots, out.plots_note, wall_s, quick, crosscheck ? &*crosscheck : nullptr, baseline};
    OutputFile html((dir / "report.html").string());
    html.commit(render_html(html_report));
    return out;
}

}  // namespace proclab::suite
