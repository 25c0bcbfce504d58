// `proclab report`: a folder with the combined JSON, a Markdown summary of every claim with its
// evidence, and plots drawn by matplotlib from the JSON (runner/plot_report.py, built in).
#pragma once

#include "compare.hpp"
#include "crosscheck.hpp"
#include "suite.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace proclab::suite {

struct ReportOutcome {
    std::vector<std::filesystem::path> plots;
    std::string plots_note;  // why there are none, and how to get them
};

// The Markdown summary; `plots` are file names relative to the report folder.
std::string render_markdown(const Environment& env, const std::vector<DemoRun>& runs, const std::vector<ClaimRow>& rows,
                            const std::vector<std::string>& plots, const std::string& plots_note, double wall_s,
                            bool quick, const std::optional<std::vector<CrosscheckPair>>& crosscheck = std::nullopt);

// Writes suite.json, plot_report.py, plots/*.png (where matplotlib is found), report.md and
// report.html (one self-contained page); `baseline` adds the comparison with a saved run.
ReportOutcome write_report(const std::filesystem::path& dir, const Environment& env, const std::vector<DemoRun>& runs,
                           const std::vector<ClaimRow>& rows, double wall_s, bool quick,
                           const std::optional<std::vector<CrosscheckPair>>& crosscheck = std::nullopt,
                           const Comparison* baseline = nullptr, const std::vector<CacheLineHandoff>& line_floors = {});

}  // namespace proclab::suite
