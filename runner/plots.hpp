// The plots of a report: what each one shows (its caption), the plotting script the runner
// carries (runner/plot_report.py, built in), and the python3 that can run it. Shared by the
// Markdown and the HTML report and by `proclab compare --plot`.
#pragma once

#include <filesystem>
#include <string>

namespace proclab::suite {

// What each plot shows, one line ("" for an unknown file name).
const char* plot_caption(const std::string& file);

// The plotting script the runner carries (runner/plot_report.py).
const char* plot_script();

// A python3 that can import matplotlib: /usr/bin/python3 first (Debian's python3-matplotlib
// belongs to it), then python3 on PATH. Empty when there is none.
std::filesystem::path python_with_matplotlib();

}  // namespace proclab::suite
