#include "compare.hpp"

#include "suite.hpp"

#include "proclab/claims.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {

LoadedRun load_run(const std::filesystem::path& path, std::string label) {
    std::filesystem::path file = path;
    if (std::filesystem::is_directory(path)) file = path / "suite.json";
    std::ifstream in(file);
    if (!in)
        throw std::runtime_error(fmt::format(
            "{}: cannot be read (a suite JSON from 'proclab run --json', or a report folder)", file.string()));
    LoadedRun r;
    r.label = std::move(label);
    r.path = file.string();
    Json j;
    try {
        j = Json::parse(in);
    } catch (const Json::parse_error& e) {
        // Where the text stops being JSON, not the library's message with its exception id.
        throw std::runtime_error(fmt::format(
            "{}: not JSON (it stops being JSON at byte {}; a suite JSON from 'proclab run --json' is expected)",
            file.string(), e.byte));
    }
    try {
        r.suite = suite_from_json(j);
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
    }
    return r;
}

std::string fact_value(const Environment& env, const std::string& key) {
    const MachineFact* f = env.find(key);
    if (!f) return "-";
    return f->value ? *f->value : "unknown";
}

std::string suite_mode(const SuiteDocument& suite) {
    int quick = 0, full = 0;
    for (const auto& run : suite.runs)
        if (run.result) ++(run.result->config.quick ? quick : full);
    if (quick == 0 && full == 0) return "-";
    if (quick > 0 && full > 0) return "mixed";
    return quick > 0 ? "--quick" : "full";
}

std::pair<std::optional<Verdict>, std::string> verdict_of(const SuiteDocument& suite, const std::string& claim_id) {
    for (const auto& row : suite.rows)
        if (row.id == claim_id) return {row.verdict, row.evidence};
    return {std::nullopt, ""};
}

std::vector<std::string> verdict_texts(const VerdictRow& row) {
    std::vector<std::string> out;
    for (const auto& v : row.verdicts) out.push_back(verdict_text(v));
    return out;
}

std::vector<FactRow> fact_rows(const std::vector<LoadedRun>& runs) {
    // Every fact any run has, in the first run's order first.
    std::vector<std::string> keys;
    std::map<std::string, std::string> labels;
    for (const auto& r : runs)
        for (const auto& f : r.suite.environment.facts) {
            if (std::find(keys.begin(), keys.end(), f.key) == keys.end()) keys.push_back(f.key);
            labels[f.key] = f.label;
        }
    std::vector<FactRow> rows;
    for (const auto& key : keys) {
        FactRow row;
        row.label = labels[key];
        for (const auto& r : runs) row.values.push_back(fact_value(r.suite.environment, key));
        row.differs = values_differ(row.values);
        rows.push_back(std::move(row));
    }
    return rows;
}

bool changed(const VerdictRow& row) { return values_differ(row.verdicts); }

bool ran(const SuiteDocument& suite, const std::string& demo) {
    return std::any_of(suite.runs.begin(), suite.runs.end(),
                       [&](const DemoRun& r) { return r.name == demo && r.result; });
}

const Metric* find_metric(const SuiteDocument& suite, const std::string& demo, const std::string& name) {
    for (const auto& run : suite.runs)
        if (run.name == demo && run.result)
            if (const Metric* m = run.result->metric(name)) return m;
    return nullptr;
}

namespace {

std::vector<double> distribution(const Metric& m) {
    return m.summary ? m.summary->distribution : std::vector<double>{};
}

std::string p_text(const MetricDiff& m) {
    if (!m.p) return "no distribution";
    return *m.p < 1e-4 ? "<0.0001" : fmt::format("{:.4f}", *m.p);
}

bool shown(const MetricDiff& m, bool all) { return all || m.headline || m.beyond_noise(); }

}  // namespace

Comparison compare_runs(std::vector<LoadedRun> runs) {
    Comparison c;
    c.runs = std::move(runs);
    c.facts = fact_rows(c.runs);
    // Metrics: each later run against the base.
    const SuiteDocument& base = c.runs.front().suite;
    for (std::size_t i = 1; i < c.runs.size(); ++i) {
        const SuiteDocument& other = c.runs[i].suite;
        auto& diffs = c.metrics.emplace_back();
        for (const auto& run : base.runs) {
            if (!run.result) continue;
            for (const auto& b : run.result->metrics) {
                const Metric* o = find_metric(other, run.name, b.name);
                if (!o) continue;
                MetricDiff d;
                d.demo = run.name;
                d.name = b.name;
                d.unit = b.unit;
                d.headline = b.headline || o->headline;
                d.base = b.value;
                d.other = o->value;
                if (b.value != 0) d.ratio = o->value / b.value;
                const auto db = distribution(b), dother = distribution(*o);
                d.n_base = db.size();
                d.n_other = dother.size();
                // An emulated machine's timings are not judged: no p, so never beyond noise.
                if (!emulated(base) && !emulated(other)) d.p = mann_whitney_p(db, dother);
                diffs.push_back(std::move(d));
            }
        }
        for (const auto& run : other.runs)
            if (run.result && !ran(base, run.name))
                c.notes.push_back(fmt::format("{} ran in {} only.", run.name, c.runs[i].label));
        for (const auto& run : base.runs)
            if (run.result && !ran(other, run.name))
                c.notes.push_back(
                    fmt::format("{} ran in {} but not in {}.", run.name, c.runs.front().label, c.runs[i].label));
    }
    for (const auto& r : c.runs)
        if (emulated(r.suite))
            c.notes.push_back(
                fmt::format("{} ({}) ran on an emulated machine ({}): its timings are not judged against any run.",
                            r.label, r.path, *r.suite.environment.find("emulated")->value));
    for (const auto& r : c.runs)
        if (r.suite.schema_version < 2)
            c.notes.push_back(fmt::format(
                "{} ({}) is schema {}: its metrics carry no distributions, so nothing against it can be tested.",
                r.label, r.path, r.suite.schema_version));
    c.verdicts = verdict_rows(c.runs);
    return c;
}

std::vector<VerdictRow> verdict_rows(const std::vector<LoadedRun>& runs) {
    std::vector<VerdictRow> rows;
    for (const auto& claim : all_claims()) {
        VerdictRow row;
        row.id = claim.id;
        for (const auto& r : runs) {
            auto [verdict, evidence] = verdict_of(r.suite, std::string(claim.id));
            row.verdicts.push_back(std::move(verdict));
            row.evidence.push_back(std::move(evidence));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

View view_of(const Comparison& c, bool all) {
    View v{.title = "proclab compare"};
    std::vector<std::string> runs;
    for (const auto& r : c.runs)
        runs.push_back(fmt::format("{} = {} (proclab {}, schema {})", r.label, r.path, r.suite.proclab_version,
                                   r.suite.schema_version));
    v.items(std::move(runs));

    ViewTable facts{.columns = {"fact"}};
    for (const auto& r : c.runs) facts.columns.push_back(r.label);
    facts.columns.emplace_back("");
    for (const auto& f : c.facts) {
        std::vector<ViewCell> row{f.label};
        row.insert(row.end(), f.values.begin(), f.values.end());
        row.push_back(flag_cell(f.differs ? "differs" : "", f.differs));
        facts.rows.push_back(std::move(row));
    }
    v.heading("The machines").table(std::move(facts));

    ViewTable verdicts{.columns = {"claim"}};
    for (const auto& r : c.runs) verdicts.columns.push_back(r.label);
    std::vector<std::string> evidence;
    for (const auto& row : c.verdicts) {
        if (!changed(row)) continue;
        std::vector<ViewCell> cells{row.id};
        for (const auto& x : row.verdicts) cells.push_back(verdict_cell(x));
        verdicts.rows.push_back(std::move(cells));
        for (std::size_t i = 0; i < c.runs.size(); ++i)
            evidence.push_back(fmt::format("{} in {}: {}", row.id, c.runs[i].label, row.evidence[i]));
    }
    v.heading(fmt::format("Verdicts that differ: {}", verdicts.rows.size()));
    if (verdicts.rows.empty()) v.paragraph("None: every claim has the same verdict.");
    else v.table(std::move(verdicts)).items(std::move(evidence));

    for (std::size_t i = 0; i < c.metrics.size(); ++i) {
        const auto& diffs = c.metrics[i];
        const std::string other = c.runs[i + 1].label, base = c.runs.front().label;
        ViewTable t{.columns = {"demo", "metric", base, other, fmt::format("{}/{}", other, base), "p", "beyond noise"}};
        int beyond = 0, tested = 0;
        for (const auto& d : diffs) {
            beyond += d.beyond_noise();
            tested += d.p.has_value();
            if (!shown(d, all)) continue;
            t.rows.push_back({d.demo, d.name, format_value(d.base, d.unit), format_value(d.other, d.unit),
                              d.ratio ? fmt::format("{:.3f}", *d.ratio) : "-", p_text(d),
                              flag_cell(d.beyond_noise() ? "yes"
                                        : d.p            ? "no"
                                                         : "-",
                                        d.beyond_noise())});
        }
        v.heading(fmt::format("Metrics, {} against {}", other, base));
        v.paragraph(fmt::format(
            "{} shared, {} with distributions on both sides, {} beyond noise; shown: {}.", diffs.size(), tested, beyond,
            all ? "every shared metric" : "the headline metrics and those beyond noise (--all: every one)"));
        v.table(std::move(t));
    }
    v.note(
        fmt::format("Beyond noise: Mann-Whitney U, two-sided, p < {}, and a ratio outside 1 +- {:.0f}%. "
                    "The test runs on each metric's distribution as the JSON keeps it: every sample up to 101, else "
                    "its 101 percentiles "
                    "(a conservative stand-in: fewer points than were measured). Its samples come from within each "
                    "run, so it cannot see the "
                    "drift between runs of one machine: a change also needs a ratio outside 1 +- {:.0f}%. A metric "
                    "without a distribution (a "
                    "single derived value, or a schema-1 file) has its ratio only.",
                    kCompareAlpha, 100 * kCompareMinEffect, 100 * kCompareMinEffect));
    if (!c.notes.empty()) v.items(c.notes);
    return v;
}

Json comparison_json(const Comparison& c) {
    Json j{{"schema_version", kSchemaVersion},
           {"kind", "compare"},
           {"alpha", kCompareAlpha},
           {"min_effect", kCompareMinEffect}};
    Json runs = Json::array();
    for (const auto& r : c.runs)
        runs.push_back({{"label", r.label}, {"path", r.path}, {"schema_version", r.suite.schema_version}});
    j["runs"] = std::move(runs);
    Json facts = Json::array();
    for (const auto& f : c.facts) facts.push_back({{"label", f.label}, {"values", f.values}, {"differs", f.differs}});
    j["facts"] = std::move(facts);
    Json verdicts = Json::array();
    for (const auto& v : c.verdicts)
        verdicts.push_back(
            {{"id", v.id}, {"verdicts", verdict_texts(v)}, {"evidence", v.evidence}, {"changed", changed(v)}});
    j["verdicts"] = std::move(verdicts);
    Json metrics = Json::array();
    for (std::size_t i = 0; i < c.metrics.size(); ++i)
        for (const auto& d : c.metrics[i])
            metrics.push_back({{"against", c.runs.front().label},
                               {"run", c.runs[i + 1].label},
                               {"demo", d.demo},
                               {"name", d.name},
                               {"unit", d.unit},
                               {"headline", d.headline},
                               {"base", d.base},
                               {"value", d.other},
                               {"ratio", d.ratio ? Json(*d.ratio) : Json(nullptr)},
                               {"p", d.p ? Json(*d.p) : Json(nullptr)},
                               {"points", {d.n_base, d.n_other}},
                               {"beyond_noise", d.beyond_noise()}});
    j["metrics"] = std::move(metrics);
    j["notes"] = c.notes;
    return j;
}

plot::Plot comparison_plot(const Comparison& c) {
    struct Row {
        std::string label;
        double ratio;
        bool moved;
    };
    std::vector<Row> rows;
    for (std::size_t i = 0; i < c.metrics.size(); ++i)
        for (const auto& d : c.metrics[i])
            if (d.ratio && *d.ratio > 0 && shown(d, false))
                rows.push_back(
                    {fmt::format("{}: {} {}", c.runs[i + 1].label, d.demo, d.name), *d.ratio, d.beyond_noise()});
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return std::abs(std::log(a.ratio)) > std::abs(std::log(b.ratio));
    });
    if (rows.size() > kPlotRows) rows.resize(kPlotRows);
    std::reverse(rows.begin(), rows.end());  // the largest move at the top
    plot::Panel panel{
        .title = "proclab compare: the headline metrics and those that moved",
        .x = {.label = fmt::format("ratio to {} (log scale); vermilion: beyond noise (Mann-Whitney U p < {:g}, ratio "
                                   "outside 1 ± {:.0f}%)",
                                   c.runs.empty() ? "A" : c.runs.front().label, kCompareAlpha, 100 * kCompareMinEffect),
              .scale = plot::Scale::log},
        .legend = ""};
    plot::Series moved{.mark = plot::Mark::hbars, .colour = 3, .base = 1};
    plot::Series still{.mark = plot::Mark::hbars, .grey = true, .base = 1, .alpha = 0.6};
    std::vector<std::string> labels;
    for (const auto& r : rows) {
        auto& series = r.moved ? moved : still;
        series.x.push_back(r.ratio);
        series.y.push_back(double(labels.size()));
        labels.push_back(r.label);
    }
    plot::set_categories(panel.y, labels);
    for (auto* s : {&moved, &still})
        if (!s->x.empty()) panel.series.push_back(std::move(*s));
    panel.series.push_back({.mark = plot::Mark::vline, .x = {1}, .colour = 7});
    plot::Plot out{.file = "compare.png",
                   .caption = "Each shown metric's ratio to the base run, the largest moves at the top.",
                   .width = 8.5,
                   .height = 1.2 + 0.28 * double(rows.size())};
    if (!rows.empty()) out.panels.push_back(std::move(panel));  // no panel: nothing to draw
    return out;
}

}  // namespace proclab::suite
