#include "proclab/plot.hpp"

#include <cmath>
#include <fmt/format.h>

namespace proclab::plot {

NLOHMANN_JSON_SERIALIZE_ENUM(Scale, {{Scale::linear, "linear"}, {Scale::log, "log"}, {Scale::log2, "log2"}})
NLOHMANN_JSON_SERIALIZE_ENUM(Mark, {{Mark::line, "line"},
                                    {Mark::scatter, "scatter"},
                                    {Mark::bars, "bars"},
                                    {Mark::hbars, "hbars"},
                                    {Mark::hline, "hline"},
                                    {Mark::vline, "vline"},
                                    {Mark::intervals, "intervals"}})

void set_categories(Axis& axis, const std::vector<std::string>& names) {
    std::vector<int> positions(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) positions[i] = static_cast<int>(i);
    set_ticks(axis, positions, [&](int i) { return names[static_cast<std::size_t>(i)]; });
}

std::string size_label(double bytes) {
    if (bytes >= 1 << 20) return fmt::format("{:g}M", bytes / (1 << 20));
    if (bytes >= 1 << 10) return fmt::format("{:g}K", bytes / (1 << 10));
    return fmt::format("{:g}", bytes);
}

namespace {

// A figure in the JSON: a finite number, or null (JSON has no NaN).
Json finite(double v) { return std::isfinite(v) ? Json(v) : Json(); }

Json numbers(const std::vector<double>& values) {
    Json out = Json::array();
    for (double v : values) out.push_back(finite(v));
    return out;
}

std::vector<double> numbers_of(const Json& j) {
    std::vector<double> out;
    for (const auto& v : j) out.push_back(v.is_number() ? v.get<double>() : NAN);
    return out;
}

// Members equal to their defaults are left out: the JSON says what this plot sets.
template <class T>
void put(Json& j, const char* key, const T& value, const T& fallback) {
    if (!(value == fallback)) j[key] = value;
}

template <class T>
void take(const Json& j, const char* key, T& value) {
    if (auto it = j.find(key); it != j.end() && !it->is_null()) value = it->template get<T>();
}

Json axis_json(const Axis& a) {
    Json j = Json::object();
    put(j, "label", a.label, std::string());
    put(j, "scale", a.scale, Scale::linear);
    if (!a.ticks.empty()) j["ticks"] = numbers(a.ticks);
    if (!a.tick_labels.empty()) j["tick_labels"] = a.tick_labels;
    if (a.min) j["min"] = finite(*a.min);
    if (a.max) j["max"] = finite(*a.max);
    return j;
}

Axis axis_of(const Json& j) {
    Axis a;
    take(j, "label", a.label);
    take(j, "scale", a.scale);
    if (j.contains("ticks")) a.ticks = numbers_of(j.at("ticks"));
    take(j, "tick_labels", a.tick_labels);
    if (j.contains("min") && j.at("min").is_number()) a.min = j.at("min").get<double>();
    if (j.contains("max") && j.at("max").is_number()) a.max = j.at("max").get<double>();
    return a;
}

Json series_json(const Series& s) {
    const Series d;
    Json j = Json::object();
    j["mark"] = s.mark;
    put(j, "label", s.label, d.label);
    if (!s.x.empty()) j["x"] = numbers(s.x);
    if (!s.y.empty()) j["y"] = numbers(s.y);
    if (!s.intervals.empty()) j["intervals"] = s.intervals;
    if (s.colour) j["colour"] = *s.colour;
    put(j, "grey", s.grey, d.grey);
    put(j, "line", s.line, d.line);
    put(j, "marker", s.marker, d.marker);
    put(j, "width", s.width, d.width);
    put(j, "base", s.base, d.base);
    put(j, "alpha", s.alpha, d.alpha);
    put(j, "hollow", s.hollow, d.hollow);
    put(j, "hatch", s.hatch, d.hatch);
    put(j, "value_labels", s.value_labels, d.value_labels);
    return j;
}

Series series_of(const Json& j) {
    Series s;
    take(j, "mark", s.mark);
    take(j, "label", s.label);
    if (j.contains("x")) s.x = numbers_of(j.at("x"));
    if (j.contains("y")) s.y = numbers_of(j.at("y"));
    take(j, "intervals", s.intervals);
    if (j.contains("colour")) s.colour = j.at("colour").get<int>();
    take(j, "grey", s.grey);
    take(j, "line", s.line);
    take(j, "marker", s.marker);
    take(j, "width", s.width);
    take(j, "base", s.base);
    take(j, "alpha", s.alpha);
    take(j, "hollow", s.hollow);
    take(j, "hatch", s.hatch);
    take(j, "value_labels", s.value_labels);
    return s;
}

Json cells_json(const Cells& c) {
    Json values = Json::array();
    for (const auto& row : c.values) {
        Json r = Json::array();
        for (const auto& v : row) r.push_back(v ? finite(*v) : Json());
        values.push_back(std::move(r));
    }
    Json j{{"rows", c.rows}, {"columns", c.columns}, {"values", std::move(values)}};
    if (!c.text.empty()) j["text"] = c.text;
    if (!c.palette.empty()) j["palette"] = c.palette;
    put(j, "colour_bar", c.colour_bar, std::string());
    return j;
}

Cells cells_of(const Json& j) {
    Cells c;
    take(j, "rows", c.rows);
    take(j, "columns", c.columns);
    for (const auto& row : j.value("values", Json::array())) {
        std::vector<std::optional<double>> r;
        for (const auto& v : row) r.push_back(v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt);
        c.values.push_back(std::move(r));
    }
    take(j, "text", c.text);
    take(j, "palette", c.palette);
    take(j, "colour_bar", c.colour_bar);
    return c;
}

}  // namespace

void to_json(Json& j, const Plot& p) {
    const Plot d;
    j = Json{{"file", p.file}, {"caption", p.caption}};
    put(j, "title", p.title, d.title);
    j["size"] = {p.width, p.height};
    put(j, "side_by_side", p.side_by_side, d.side_by_side);
    put(j, "ratios", p.ratios, d.ratios);
    put(j, "share_x", p.share_x, d.share_x);
    put(j, "share_y", p.share_y, d.share_y);
    Json panels = Json::array();
    for (const auto& panel : p.panels) {
        const Panel dp;
        Json jp = Json::object();
        put(jp, "title", panel.title, dp.title);
        jp["x"] = axis_json(panel.x);
        jp["y"] = axis_json(panel.y);
        Json series = Json::array();
        for (const auto& s : panel.series) series.push_back(series_json(s));
        if (!series.empty()) jp["series"] = std::move(series);
        if (panel.cells) jp["cells"] = cells_json(*panel.cells);
        put(jp, "legend", panel.legend, dp.legend);
        put(jp, "legend_size", panel.legend_size, dp.legend_size);
        panels.push_back(std::move(jp));
    }
    j["panels"] = std::move(panels);
}

void from_json(const Json& j, Plot& p) {
    p = Plot{};
    take(j, "file", p.file);
    take(j, "caption", p.caption);
    take(j, "title", p.title);
    if (j.contains("size") && j.at("size").size() == 2) {
        p.width = j.at("size")[0].get<double>();
        p.height = j.at("size")[1].get<double>();
    }
    take(j, "side_by_side", p.side_by_side);
    take(j, "ratios", p.ratios);
    take(j, "share_x", p.share_x);
    take(j, "share_y", p.share_y);
    for (const auto& jp : j.value("panels", Json::array())) {
        Panel panel;
        take(jp, "title", panel.title);
        if (jp.contains("x")) panel.x = axis_of(jp.at("x"));
        if (jp.contains("y")) panel.y = axis_of(jp.at("y"));
        for (const auto& s : jp.value("series", Json::array())) panel.series.push_back(series_of(s));
        if (jp.contains("cells")) panel.cells = cells_of(jp.at("cells"));
        take(jp, "legend", panel.legend);
        take(jp, "legend_size", panel.legend_size);
        p.panels.push_back(std::move(panel));
    }
}

}  // namespace proclab::plot
