// Plots as data. A demo says what to draw: marks, axes with their units and scales, a caption.
// runner/plot_report.py draws any Plot without knowing which demo made it, so a new plot touches
// only the demo that owns it. One Plot is one PNG; a Result carries its plots in "plots".
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace proclab::plot {

using Json = nlohmann::ordered_json;

enum class Scale { linear, log, log2 };

struct Axis {
    std::string label = {};  // with its unit: "one hop (µs, log scale)"
    Scale scale = Scale::linear;
    std::vector<double> ticks = {};             // where labelled ticks go (empty: the drawer chooses)
    std::vector<std::string> tick_labels = {};  // one per tick (empty: the numbers, as %g)
    std::optional<double> min = {}, max = {};
};

enum class Mark {
    line,       // points joined (x, y); `line` "" for markers only
    scatter,    // points (x, y), `size` their area
    bars,       // vertical bars at x, of height y, `width` wide, from `base`
    hbars,      // horizontal bars at y, of length x, `width` high, from `base`
    hline,      // a horizontal reference at y[0]
    vline,      // a vertical reference at x[0]
    intervals,  // a timeline: each (start, end, row) a bar on its row
};

struct Series {
    Mark mark = Mark::line;
    std::string label = {};  // in the legend; "" for none
    std::vector<double> x = {}, y = {};
    std::vector<std::array<double, 3>> intervals = {};  // Mark::intervals: start, end, row
    std::optional<int> colour = {};                     // a palette index (Okabe-Ito); none: the series' own position
    bool grey = false;                                  // a floor or a reference line, not a finding
    std::string line = "-";                             // "-", "--", ":", "-.", or "" (markers only)
    std::string marker = {};                            // matplotlib's: "o", "s", "^", "D", "v", "x", "|"
    double width = 0;                                   // bars: their width; scatter: the markers' area (0: default)
    double base = 0;                                    // bars: where they start
    double alpha = 1;
    bool hollow = false;        // scatter: markers drawn as outlines
    std::string hatch = {};     // intervals: a fill pattern, to tell apart more series than colours
    bool value_labels = false;  // bars: each bar's value written on it
};

// A grid of cells (a heatmap, or a matrix of outcomes): values coloured by a map, with text.
struct Cells {
    std::vector<std::string> rows = {}, columns = {};             // labels
    std::vector<std::vector<std::optional<double>>> values = {};  // [row][column]; none: blank
    std::vector<std::vector<std::string>> text = {};              // [row][column]; empty: none
    // Listed colours for the values 0, 1, 2...; empty: the continuous map viridis.
    std::vector<std::string> palette = {};
    std::string colour_bar = {};  // its label; "" for none
};

struct Panel {
    std::string title = {};
    Axis x = {}, y = {};
    std::vector<Series> series = {};
    std::optional<Cells> cells = {};
    std::string legend = "best";  // matplotlib's loc, "outside" (right of the axes), or "" for none
    double legend_size = 7;       // points
};

struct Plot {
    std::string file = {};            // "timeline.png"
    std::string caption = {};         // what it shows, one sentence; the report prints it under the picture
    std::string title = {};           // above every panel (the panels keep their own titles)
    double width = 7, height = 4.5;   // inches
    bool side_by_side = false;        // panels in one row (else one column)
    std::vector<double> ratios = {};  // the panels' relative sizes along that direction
    bool share_x = false, share_y = false;
    std::vector<Panel> panels = {};
};

// Ticks at each value, labelled with `label(value)`.
template <class Values, class Label>
void set_ticks(Axis& axis, const Values& values, Label label) {
    axis.ticks.clear();
    axis.tick_labels.clear();
    for (const auto& v : values) {
        axis.ticks.push_back(static_cast<double>(v));
        axis.tick_labels.push_back(label(v));
    }
}

// Category axes: ticks at 0, 1, 2... labelled with the names.
void set_categories(Axis& axis, const std::vector<std::string>& names);

// A byte count as a short tick label: 64, 4K, 2M.
std::string size_label(double bytes);

void to_json(Json& j, const Plot& p);
void from_json(const Json& j, Plot& p);

}  // namespace proclab::plot
