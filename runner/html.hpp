// report.html: the report as one self-contained page (plots embedded, no network, no script):
// the claims table first, why each verdict, each demo's evidence, the plots, the crosscheck and
// the comparison with a baseline where present, and the machine. Reads at laptop width.
#pragma once

#include "compare.hpp"
#include "crosscheck.hpp"
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

std::string base64(std::string_view bytes);

}  // namespace proclab::suite
