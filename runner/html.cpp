#include "html.hpp"

#include "glossary.hpp"

#include "plots.hpp"

#include "proclab/environment.hpp"
#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::suite {

std::string base64(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (unsigned(static_cast<unsigned char>(bytes[i])) << 16) |
                           (unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                           unsigned(static_cast<unsigned char>(bytes[i + 2]));
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) v |= unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

namespace {

constexpr const char* kStyle = R"css(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; margin: 0 auto;
       max-width: 1180px; padding: 1.2rem 1.4rem 3rem; }
h1 { font-size: 1.55rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.meta { color: #555; margin-top: 0; }
.scroll { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .86rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; white-space: nowrap; }
.verdict { font-weight: 600; white-space: nowrap; border-radius: 4px; padding: .1rem .4rem; }
.confirmed { background: #e3f4e6; color: #1b5e20; } .refuted { background: #fde4e4; color: #b71c1c; }
.nuanced { background: #fff4d6; color: #7a5200; } .not-measured { background: #eceff1; color: #455a64; }
details { margin: .4rem 0; } summary { cursor: pointer; font-weight: 600; }
.note { color: #444; font-size: .84rem; max-width: 70rem; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .85rem; }
code { background: #f4f4f6; padding: 0 .2rem; border-radius: 3px; }
@media (max-width: 720px) {
  td { overflow-wrap: anywhere; }
  body { padding: .8rem .7rem 2rem; font-size: 14px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: auto; }
  table.stack thead { display: none; }
  table.stack tr { border: 1px solid #ddd; border-radius: 6px; margin: 0 0 .7rem; padding: .3rem .5rem; }
  table.stack td { border: none; padding: .15rem 0; background: none !important; }
  table.stack td::before { content: attr(data-label); display: block; color: #666; font-size: .75rem; }
}
.flag { font-weight: 700; color: #b71c1c; }
a.term { color: inherit; text-decoration: underline dotted; text-underline-offset: 2px; }
dl.glossary dt { font-weight: 600; margin-top: .6rem; } dl.glossary dd { margin: .1rem 0 0 1.2rem; max-width: 70rem; }
)css";

std::string verdict_span(std::string_view v) {
    return fmt::format("<span class=\"verdict {}\">{}</span>", html_escape(v), html_escape(v));
}

}  // namespace

std::string render_html(const HtmlReport& r) {
    std::string h =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>proclab report</title><style>";
    h += kStyle;
    h += "</style></head><body>\n";
    h += "<h1>proclab report: what the notes' claims turned out to be on this machine</h1>\n";
    auto fact = [&](const char* key) {
        const MachineFact* f = r.env->find(key);
        return f && f->value ? *f->value : std::string("unknown");
    };
    std::string quota;  // a cgroup CPU quota is the CPUs' capacity: shown beside them
    if (r.env->cpu_quota_cpus) quota = fmt::format("; CPU quota (cgroup): {:.2f} CPUs", *r.env->cpu_quota_cpus);
    h += fmt::format(
        "<p class=\"meta\">proclab {}, {} run, {:.1f} s in all, on {} ({}{}; virtual machine: {}; kernel {}).</p>\n",
        PROCLAB_VERSION, r.quick ? "a --quick" : "a full", r.wall_s, html_escape(fact("cpu_model")),
        html_escape(fact("affinity_cpus")), html_escape(quota), html_escape(fact("hypervisor")),
        html_escape(fact("kernel_release")));
    h += "<p class=\"meta\">A word the report uses before defining it links to the <a href=\"#glossary\">Glossary</a> "
         "at the end.</p>\n";

    // The claims first.
    h += "<h2>The claims</h2>\n";
    ViewTable claims{.columns = {"id", "the notes say", "verdict", "evidence", "measured by"}, .cards = true};
    for (const auto& c : *r.rows)
        claims.rows.push_back({c.id, c.statement, verdict_cell(c.verdict), c.evidence,
                               c.demos.empty() ? "-" : fmt::format("{}", fmt::join(c.demos, ", "))});
    h += render_html_table(claims);
    h += "<p class=\"note\">A claim measured by several demos gets one verdict: any refuted makes it refuted, else any "
         "nuanced "
         "makes it nuanced, else any confirmed makes it confirmed, else not-measured.</p>\n";
    h += "<h2>Why: each demo's reasons</h2>\n";
    for (const auto& c : *r.rows) {
        h += fmt::format("<details><summary>{}: {} &mdash; {}</summary><ul>", html_escape(c.id),
                         html_escape(c.statement), verdict_span(to_string(c.verdict)));
        if (c.reasons.empty()) h += "<li>" + html_escape(c.evidence) + "</li>";
        for (const auto& reason : c.reasons) h += "<li>" + html_escape(reason) + "</li>";
        for (const auto& refuted_by : c.refuted_by)
            h += "<li><em>would be refuted by</em>: " + html_escape(refuted_by) + "</li>";
        h += "</ul></details>\n";
    }

    if (r.baseline) {
        const auto& c = *r.baseline;
        h += "<h2>Against the baseline</h2>\n";
        h += fmt::format(
            "<p class=\"note\">Baseline <code>{}</code>. Beyond noise: Mann-Whitney U on the kept distributions, p "
            "&lt; {}, "
            "and a ratio outside 1 &plusmn; {:.0f}%.</p>\n",
            html_escape(c.runs.front().path), kCompareAlpha, 100 * kCompareMinEffect);
        ViewTable verdicts{.columns = {"claim", "baseline", "this run", "this run's evidence"}};
        for (const auto& v : c.verdicts)
            if (changed(v))
                verdicts.rows.push_back(
                    {v.id, verdict_cell(v.verdicts.front()), verdict_cell(v.verdicts.back()), v.evidence.back()});
        h += verdicts.rows.empty() ? "<p>Every claim has the verdict it had.</p>\n" : render_html_table(verdicts);
        ViewTable moved{.columns = {"demo", "metric", "baseline", "this run", "ratio", "p"}};
        for (const auto& m : c.metrics.front())
            if (m.beyond_noise())
                moved.rows.push_back({m.demo, m.name, format_value(m.base, m.unit), format_value(m.other, m.unit),
                                      fmt::format("{:.3f}", *m.ratio),
                                      !m.p          ? "-"
                                      : *m.p < 1e-4 ? "<0.0001"
                                                    : fmt::format("{:.4f}", *m.p)});
        h += moved.rows.empty() ? "<p>No metric moved beyond noise.</p>\n" : render_html_table(moved);
    }

    h += "<h2>Plots</h2>\n";
    if (r.plots.empty()) h += "<p>" + html_escape(r.plots_note) + "</p>\n";
    for (const auto& p : r.plots) {
        const std::string name = p.filename().string();
        const std::string caption = html_escape(plot_caption(*r.runs, name));
        h += fmt::format(
            "<figure><img alt=\"{}\" src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n", caption,
            base64(read_small_file(p.string()).value_or("")), caption);
    }

    h += "<h2>The demos' evidence</h2>\n";
    for (const auto& run : *r.runs) {
        h += fmt::format("<details><summary>{} &mdash; {} ({:.2f} s)</summary>\n", html_escape(run.name),
                         html_escape(std::string(to_string(run.status))), run.wall_s);
        if (!run.detail.empty()) h += "<p class=\"note\">" + html_escape(run.detail) + "</p>\n";
        if (run.result) {
            for (const auto& t : run.result->tables) h += render_table_html(t);
            for (const auto& n : run.result->notes) h += "<p class=\"note\">" + html_escape(n) + "</p>\n";
        }
        h += "</details>\n";
    }

    if (r.crosscheck) {
        h += "<h2>Crosscheck: proclab beside perf bench, stress-ng, cyclictest and hackbench</h2>\n";
        h += fmt::format(
            "<p class=\"note\">proclab's figures here are crosscheck's own runs of the demos, in {} turns alternating "
            "with each tool's; a row is judged only where each side's turns spread within ±{:.0f}%.</p>\n",
            kTurns, 100 * kAgreement);
        h += render_html_blocks(view_of(*r.crosscheck));
    }

    h += "<h2>The machine</h2>\n";
    ViewTable facts{.columns = {"fact", "value"}};
    for (const auto& f : r.env->facts) facts.rows.push_back({f.label, f.shown()});
    h += render_html_table(facts);
    h += "<p class=\"note\">Reproduce: <code>./setup.sh run</code>, or <code>proclab report DIR</code>; the plots "
         "again: "
         "<code>python3 plot_report.py suite.json plots</code> in this folder.</p>\n";
    return link_first_uses_html(h) + glossary_html() + "</body></html>\n";
}

std::string render_fleet_html(const FleetView& v, bool all, const std::string& plot_png, const std::string& plot_text) {
    const View view = view_of(v, all);
    std::string h =
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>" +
        html_escape(view.title) + "</title><style>";
    h += kStyle;
    h += "</style></head><body>\n";
    h += render_html_blocks(view);
    h += "<h2>Plot</h2>\n";
    if (!plot_png.empty())
        h += fmt::format(
            "<figure><img alt=\"each machine's ratio to the fleet median\" "
            "src=\"data:image/png;base64,{}\"><figcaption>{}</figcaption></figure>\n",
            base64(plot_png), html_escape(plot_text));
    else h += "<p class=\"note\">" + html_escape(plot_text) + "</p>\n";
    return h + "</body></html>\n";
}

}  // namespace proclab::suite
