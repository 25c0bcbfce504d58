#include "stability.hpp"

#include "proclab/aggregate.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab::suite {

double ClaimStability::held() const {
    const auto it = counts.find(most_common);
    return runs > 0 && it != counts.end() ? double(it->second) / double(runs) : 0;
}

bool StabilityReport::target_met() const {
    return !claims.empty() && std::all_of(claims.begin(), claims.end(), [](const auto& c) { return c.meets_target(); });
}

StabilityReport summarize_stability(const std::vector<SuiteRun>& runs, bool quick) {
    StabilityReport report;
    report.runs = static_cast<int>(runs.size());
    report.quick = quick;
    std::vector<double> walls;
    std::map<std::pair<std::string, std::string>, MetricSpread> metrics;
    std::map<std::pair<std::string, std::string>, std::vector<double>> values;
    std::vector<std::pair<std::string, std::string>> order;
    for (const auto& run : runs) {
        walls.push_back(run.wall_s);
        for (const auto& row : run.rows) {
            auto it =
                std::find_if(report.claims.begin(), report.claims.end(), [&](const auto& c) { return c.id == row.id; });
            if (it == report.claims.end()) {
                report.claims.push_back({row.id, {}, Verdict::not_measured, 0});
                it = report.claims.end() - 1;
            }
            ++it->counts[row.verdict];
            ++it->runs;
        }
        for (const auto& demo : run.runs) {
            if (!demo.result) {
                ++report.failed_demo_runs;
                continue;
            }
            for (const auto& m : demo.result->metrics) {
                if (!m.headline) continue;
                const auto key = std::make_pair(demo.name, m.name);
                if (!metrics.count(key)) {
                    metrics[key] = MetricSpread{demo.name, m.name, m.unit, m.description, {}};
                    order.push_back(key);
                }
                values[key].push_back(m.value);
            }
        }
    }
    for (auto& c : report.claims) {
        std::vector<Verdict> seen;
        for (const auto& [verdict, n] : c.counts) seen.insert(seen.end(), std::size_t(n), verdict);
        // A tie goes to the verdict listed first: confirmed, nuanced, not-measured, refuted.
        c.most_common =
            most_common(seen, {Verdict::confirmed, Verdict::nuanced, Verdict::not_measured, Verdict::refuted})
                .value_or(Verdict::not_measured);
    }
    for (const auto& key : order) {
        auto m = metrics[key];
        m.across_runs = summarize(values[key]);
        report.metrics.push_back(std::move(m));
    }
    if (!walls.empty()) report.suite_wall_s = summarize(walls);
    return report;
}

View view_of(const StabilityReport& r) {
    View v{.title = fmt::format(
               "Verdicts over {} {}runs (target: each claim keeps its most common verdict in {:.0f}% of runs)", r.runs,
               r.quick ? "--quick " : "", 100 * kStabilityTarget)};
    ViewTable claims{
        .columns = {"claim", "most common", "held", "confirmed", "nuanced", "not-measured", "refuted", "target"}};
    for (const auto& c : r.claims) {
        auto count = [&](Verdict x) { return c.counts.count(x) ? std::to_string(c.counts.at(x)) : std::string("0"); };
        claims.rows.push_back({c.id, verdict_cell(c.most_common), fmt::format("{:.0f}%", 100 * c.held()),
                               count(Verdict::confirmed), count(Verdict::nuanced), count(Verdict::not_measured),
                               count(Verdict::refuted),
                               flag_cell(c.meets_target() ? "met" : "MISSED", !c.meets_target())});
    }
    v.table(std::move(claims));
    v.paragraph(
        fmt::format("Target {} for every claim.{}", r.target_met() ? "met" : "NOT met",
                    r.failed_demo_runs
                        ? fmt::format(" {} demo runs failed (their claims count as not-measured).", r.failed_demo_runs)
                        : ""));
    ViewTable m{.columns = {"demo", "metric", "median", "min", "max", "cv"}};
    for (const auto& x : r.metrics)
        m.rows.push_back({x.demo, x.name, format_value(x.across_runs.median, x.unit),
                          format_value(x.across_runs.min, x.unit), format_value(x.across_runs.max, x.unit),
                          fmt::format("{:.1f}%", 100 * x.across_runs.cv)});
    v.heading("Headline metrics across runs (each run's value)").table(std::move(m));
    v.paragraph(
        fmt::format("Suite wall time: median {:.1f} s, max {:.1f} s.", r.suite_wall_s.median, r.suite_wall_s.max));
    return v;
}

Json stability_json(const StabilityReport& r) {
    Json j;
    j["schema_version"] = kSchemaVersion;
    j["kind"] = "stability";
    j["runs"] = r.runs;
    j["quick"] = r.quick;
    j["target"] = kStabilityTarget;
    j["target_met"] = r.target_met();
    Json claims = Json::array();
    for (const auto& c : r.claims) {
        Json counts = Json::object();
        for (const auto& [v, n] : c.counts) counts[std::string(to_string(v))] = n;
        claims.push_back(
            Json{{"id", c.id}, {"most_common", to_string(c.most_common)}, {"held", c.held()}, {"counts", counts}});
    }
    j["claims"] = std::move(claims);
    Json metrics = Json::array();
    for (const auto& m : r.metrics)
        metrics.push_back(Json{{"demo", m.demo},
                               {"name", m.name},
                               {"unit", m.unit},
                               {"description", m.description},
                               {"across_runs", Json(m.across_runs)}});
    j["metrics"] = std::move(metrics);
    j["suite_wall_s"] = Json(r.suite_wall_s);
    j["failed_demo_runs"] = r.failed_demo_runs;
    return j;
}

}  // namespace proclab::suite
