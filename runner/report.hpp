// `proclab report`: a folder with the combined JSON, the report (one View, drawn as Markdown and as
// one HTML page), and plots drawn by matplotlib from the JSON (runner/plot_report.py, built in).
#pragma once

#include "compare.hpp"
#include "crosscheck.hpp"
#include "suite.hpp"
#include "view.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace proclab::suite {

struct ReportOutcome {
    std::vector<std::filesystem::path> plots;
    std::string plots_note;  // why there are none, and how to get them
};

// What the report shows: the run, and what write_report drew and compared it with.
struct ReportContent {
    const Environment* env = nullptr;
    const std::vector<DemoRun>* runs = nullptr;
    const std::vector<ClaimRow>* rows = nullptr;
    std::vector<std::filesystem::path> plots = {};  // PNG files in the report folder's plots/
    std::string plots_note = {};                    // why there are none
    double wall_s = 0;
    bool quick = false;
    const std::vector<CrosscheckPair>* crosscheck = nullptr;
    const Comparison* baseline = nullptr;
    std::string python = {};  // the interpreter that draws the plots again
};

// The report as one View, drawn as report.md (render_markdown) and report.html (html.hpp): the
// claims first, why each verdict, the comparison with a baseline, the plots, each demo's evidence,
// the crosscheck, the machine, and how to reproduce it.
View report_view(const ReportContent& r);

// Writes suite.json, plot_report.py, plots/*.png (where matplotlib is found), report.md and
// report.html (one self-contained page); `baseline` adds the comparison with a saved run.
ReportOutcome write_report(const std::filesystem::path& dir, const Environment& env, const std::vector<DemoRun>& runs,
                           const std::vector<ClaimRow>& rows, double wall_s, bool quick,
                           const std::optional<std::vector<CrosscheckPair>>& crosscheck = std::nullopt,
                           const Comparison* baseline = nullptr, const std::vector<CacheLineHandoff>& line_floors = {});

}  // namespace proclab::suite
