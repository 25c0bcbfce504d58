// proclab compare: what differs between runs, and whether the difference is real. The machines
// side by side, every shared metric with its ratio to the first run and a Mann-Whitney U test on
// the two distributions (schema 2 keeps them), the claims whose verdict differs. Also what
// `proclab run --baseline FILE` prints after a run.
#pragma once

#include "suite.hpp"
#include "view.hpp"

#include "proclab/plot.hpp"
#include "proclab/render.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace proclab::suite {

inline constexpr double kCompareAlpha = 0.05;  // p below this (Google Benchmark compare.py's default) ...
// ... and a ratio outside 1 +- 5%: beyond noise. The test's samples come from within one run, so it
// cannot see the drift between runs on one machine (a few percent, `proclab stability` measures it);
// a smaller difference, however significant within the runs, is not called a change.
inline constexpr double kCompareMinEffect = 0.05;

// The rule both comparisons use (compare: run against run; fleet: a machine against the rest):
// Mann-Whitney p (common/stats.hpp) below kCompareAlpha and the ratio outside 1 +- kCompareMinEffect.
inline bool beyond_noise(std::optional<double> p, std::optional<double> ratio) {
    return p && *p < kCompareAlpha && ratio && (*ratio < 1 - kCompareMinEffect || *ratio > 1 + kCompareMinEffect);
}

struct LoadedRun {
    std::string label;  // "A", "B", ...
    std::string path;
    SuiteDocument suite;
};

// A suite JSON (`proclab run --json`), or a report folder holding suite.json. Throws
// std::runtime_error with one line naming the file and what is wrong with it.
LoadedRun load_run(const std::filesystem::path& path, std::string label);

struct MetricDiff {
    std::string demo, name;
    Unit unit;
    bool headline = false;
    double base = 0, other = 0;
    std::optional<double> ratio;          // other / base; none when base is 0
    std::optional<double> p;              // none: no distribution on one side (a single value, or schema 1)
    std::size_t n_base = 0, n_other = 0;  // the distributions' points
    bool beyond_noise() const { return suite::beyond_noise(p, ratio); }
};

struct VerdictRow {
    std::string id;
    std::vector<std::optional<Verdict>> verdicts;  // one per run; none where the run lacks the claim
    std::vector<std::string> evidence;
};
// Each run's verdict_text (view.hpp), for the JSON.
std::vector<std::string> verdict_texts(const VerdictRow& row);
// Every claim's verdict in each run, in the runs' order: the rows compare and the fleet both show.
std::vector<VerdictRow> verdict_rows(const std::vector<LoadedRun>& runs);

struct FactRow {
    std::string label;
    std::vector<std::string> values;
    bool differs = false;
};

struct Comparison {
    std::vector<LoadedRun> runs;  // [0] is the base
    std::vector<FactRow> facts;
    std::vector<std::vector<MetricDiff>> metrics;  // [i]: run i+1 against the base, every shared metric
    std::vector<VerdictRow> verdicts;              // every claim; changed() says which differ
    std::vector<std::string> notes;                // demos in one run only, schema-1 files
};

bool changed(const VerdictRow& row);

// Whether any of the values is not the first: a fact, a mode or a verdict not the same on every run.
template <class T>
bool values_differ(const std::vector<T>& values) {
    return std::any_of(values.begin(), values.end(), [&](const T& v) { return v != values.front(); });
}
// Whether the demo ran in this suite and left a result.
bool ran(const SuiteDocument& suite, const std::string& demo);

// The machines' facts side by side, every fact any run has (the first run's order first).
std::vector<FactRow> fact_rows(const std::vector<LoadedRun>& runs);
// A fact's value as compare shows it: "-" where the run lacks it, "unknown" where it was unknown.
std::string fact_value(const Environment& env, const std::string& key);
// How the suite ran, from its demos' own configs: "full", "--quick", "mixed", or "-" with no result.
std::string suite_mode(const SuiteDocument& suite);
// A claim's verdict and evidence in a run: (none, "") where the run does not hold the claim.
std::pair<std::optional<Verdict>, std::string> verdict_of(const SuiteDocument& suite, const std::string& claim_id);
// A demo's metric in a run; null when the demo did not run or has no such metric.
const Metric* find_metric(const SuiteDocument& suite, const std::string& demo, const std::string& name);

Comparison compare_runs(std::vector<LoadedRun> runs);

// The comparison for people (view.hpp draws it in each format). all: every shared metric;
// otherwise the headline ones and those beyond noise.
View view_of(const Comparison& c, bool all);
Json comparison_json(const Comparison& c);
// Each shown metric's ratio to the base run, the largest moves first (at most kPlotRows).
plot::Plot comparison_plot(const Comparison& c);

inline constexpr std::size_t kPlotRows = 40;  // metrics in a compare or fleet plot, the largest moves

}  // namespace proclab::suite
