// `proclab stability N [--quick]`: the suite N times, and per claim how often each verdict came,
// per headline metric its spread across runs (CV). A verdict that flips from run to run tells the
// user something false about their OS; this is the benchmark that catches it.
#pragma once

#include "suite.hpp"
#include "view.hpp"

#include <map>
#include <string>
#include <vector>

namespace proclab::suite {

// The target: each claim keeps its most common verdict in at least this share of runs.
inline constexpr double kStabilityTarget = 0.95;

struct SuiteRun {
    std::vector<DemoRun> runs;
    std::vector<ClaimRow> rows;
    double wall_s = 0;
};

struct ClaimStability {
    std::string id;
    std::map<Verdict, int> counts;
    Verdict most_common = Verdict::not_measured;
    int runs = 0;
    double held() const;  // share of runs with the most common verdict
    bool meets_target() const { return held() >= kStabilityTarget - 1e-9; }
};

struct MetricSpread {
    std::string demo, name;
    Unit unit;
    std::string description;
    Summary across_runs;  // of the metric's value in each run
};

struct StabilityReport {
    int runs = 0;
    bool quick = false;
    std::vector<ClaimStability> claims;
    std::vector<MetricSpread> metrics;  // headline metrics only
    Summary suite_wall_s;
    int failed_demo_runs = 0;
    bool target_met() const;
};

// Pure: from the runs' claim rows and their demos' headline metrics.
StabilityReport summarize_stability(const std::vector<SuiteRun>& runs, bool quick);
// The report for people (view.hpp draws it in each format).
View view_of(const StabilityReport& report);
Json stability_json(const StabilityReport& report);

}  // namespace proclab::suite
