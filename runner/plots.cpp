#include "plots.hpp"

#include "proclab/spawn.hpp"

#include <unistd.h>

namespace proclab::suite {
namespace {

constexpr const char* kPlotScript =
#include "proclab/plot_script.inc"
    ;

}  // namespace

std::string plot_caption(const std::vector<DemoRun>& runs, const std::string& file) {
    for (const auto& run : runs)
        if (run.result)
            for (const auto& plot : run.result->plots)
                if (plot.file == file) return plot.caption;
    return "";
}

const char* plot_script() { return kPlotScript; }

std::filesystem::path python_with_matplotlib() {
    std::vector<std::filesystem::path> candidates{"/usr/bin/python3"};
    if (auto p = find_program("python3"); !p.empty()) candidates.push_back(p);
    for (const auto& py : candidates) {
        if (::access(py.c_str(), X_OK) != 0) continue;
        try {
            auto run = run_captured(py, {"-c", "import matplotlib"}, {.timeout = std::chrono::seconds(30)});
            if (run.status.exited() && run.status.exit_code() == 0) return py;
        } catch (const std::exception&) {}
    }
    return {};
}

}  // namespace proclab::suite
