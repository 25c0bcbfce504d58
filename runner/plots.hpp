// The plots of a report: what each one shows (its caption, from the demo that drew it), the
// plotting script the runner carries (runner/plot_report.py, built in), and the python3 that can
// run it. Shared by the Markdown and the HTML report and by `proclab compare --plot`.
#pragma once

#include "suite.hpp"

#include <filesystem>
#include <string>

namespace proclab::suite {

// What a plot shows, one line, as the demo that drew it wrote it ("" for a file no demo drew).
std::string plot_caption(const std::vector<DemoRun>& runs, const std::string& file);

// The plotting script the runner carries (runner/plot_report.py).
const char* plot_script();

// A python3 that can import matplotlib: /usr/bin/python3 first (Debian's python3-matplotlib
// belongs to it), then python3 on PATH. Empty when there is none.
std::filesystem::path python_with_matplotlib();

}  // namespace proclab::suite
