// report.html: the report as one self-contained page (plots embedded, no network, no script):
// the claims table first, why each verdict, each demo's evidence, the plots, the crosscheck and
// the comparison with a baseline where present, and the machine. Reads at laptop width.
#pragma once

#include "compare.hpp"
#include "crosscheck.hpp"
#include "fleet.hpp"
#include "suite.hpp"
#include "view.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace proclab::suite {

// report.html: the report's View as one page, its terms linked to the glossary at its end.
std::string report_html(const View& report);

// `proclab compare --html`: the fleet view as one self-contained page; `plot_png`: the ratio plot's
// bytes, embedded with `plot_text` as its caption (no bytes: `plot_text` says why there is no plot).
std::string render_fleet_html(const FleetView& v, bool all, const std::string& plot_png, const std::string& plot_text);

}  // namespace proclab::suite
