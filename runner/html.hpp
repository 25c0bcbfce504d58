// report.html: the report as one self-contained page (plots embedded, no network, no script):
// the claims table first, why each verdict, each demo's evidence, the plots, the crosscheck and
// the comparison with a baseline where present, and the machine. Reads at laptop width.
#pragma once

#include "compare.hpp"
#include "crosscheck.hpp"
#include "fleet.hpp"
#include "suite.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

struct HtmlReport {
    const Environment* env = nullptr;
    const std::vector<DemoRun>* runs = nullptr;
    const std::vector<ClaimRow>* rows = nullptr;
    std::vector<std::filesystem::path> plots;  // PNG files, embedded as data URIs
    std::string plots_note;
    double wall_s = 0;
    bool quick = false;
    const std::vector<CrosscheckPair>* crosscheck = nullptr;
    const Comparison* baseline = nullptr;
};

std::string render_html(const HtmlReport& r);

// `proclab compare --html`: the fleet view as one self-contained page; `plot_png`: the ratio plot's
// bytes, embedded with `plot_text` as its caption (no bytes: `plot_text` says why there is no plot).
std::string render_fleet_html(const FleetView& v, bool all, const std::string& plot_png, const std::string& plot_text);

std::string base64(std::string_view bytes);

}  // namespace proclab::suite
