#include "proclab/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab {

Json to_json(const Summary& s) {
    Json j{{"count", s.count}, {"min", s.min},   {"median", s.median}, {"mean", s.mean}, {"p90", s.p90},
           {"p99", s.p99},     {"max", s.max},   {"stddev", s.stddev}, {"cv", s.cv}};
    if (!s.distribution.empty())
        j["distribution"] = Json{{"kind", s.distribution_is_percentiles() ? "percentiles" : "samples"}, {"values", s.distribution}};
    return j;
}

Json to_json(const Environment& env) {
    Json out = Json::object();
    for (const auto& f : env.facts) {
        Json fact{{"label", f.label}};
        if (f.value) {
            fact["value"] = *f.value;
        } else {
            fact["value"] = nullptr;
            fact["unknown"] = f.unknown_reason;
        }
        fact["source"] = f.source;
        out[f.key] = std::move(fact);
    }
    return out;
}

Json to_json(const Result& r) {
    Json j;
    j["schema_version"] = kSchemaVersion;
    j["proclab_version"] = r.proclab_version;
    j["demo"] = r.demo;
    j["title"] = r.title;
    Json claims = Json::array();
    for (const auto& v : r.verdicts) {
        Json jc{{"id", v.id}, {"verdict", to_string(v.verdict)}, {"reason", v.reason}, {"summary", v.summary}};
        if (!v.trial_verdicts.empty()) {
            Json each = Json::array();
            for (Verdict t : v.trial_verdicts) each.push_back(to_string(t));
            jc["trials"] = Json{{"count", v.trial_verdicts.size()}, {"agreeing", v.agreeing_trials()}, {"verdicts", std::move(each)}};
        }
        claims.push_back(std::move(jc));
    }
    j["claims"] = std::move(claims);
    Json metrics = Json::array();
    for (const auto& m : r.metrics) {
        Json jm{{"name", m.name}, {"value", m.value}, {"unit", m.unit}, {"description", m.description}};
        if (m.summary) jm["summary"] = to_json(*m.summary);
        if (m.headline) jm["headline"] = true;
        metrics.push_back(std::move(jm));
    }
    j["metrics"] = std::move(metrics);
    Json tables = Json::array();
    for (const auto& t : r.tables)
        tables.push_back(Json{{"title", t.title}, {"columns", t.columns}, {"rows", t.rows}, {"note", t.note}});
    j["tables"] = std::move(tables);
    Json figures = Json::array();
    for (const auto& f : r.figures) figures.push_back(Json{{"title", f.title}, {"lines", f.lines}, {"note", f.note}});
    j["figures"] = std::move(figures);
    j["notes"] = r.notes;
    j["config"] = Json{{"quick", r.config.quick}, {"repeat", r.config.repeat}, {"timeout_s", r.config.timeout_s}};
    if (r.config.trials > 0) j["config"]["trials"] = r.config.trials;
    j["clock"] = Json{{"source", "CLOCK_MONOTONIC"},
                      {"read_overhead_ns", r.clock.read_overhead_ns},
                      {"observed_resolution_ns", r.clock.observed_resolution_ns},
                      {"reported_resolution_ns", r.clock.reported_resolution_ns},
                      {"samples", r.clock.samples}};
    j["wall_time_s"] = r.wall_time_s;
    j["environment"] = to_json(r.environment);
    j["raw"] = r.raw_json.empty() ? Json::object() : Json::parse(r.raw_json);
    return j;
}

std::string render_json(const Result& r) { return to_json(r).dump(2) + "\n"; }

void require_readable_schema(int version, std::string_view what) {
    if (version < kOldestReadableSchema || version > kSchemaVersion)
        throw std::runtime_error(
            fmt::format("{} has schema_version {}; this proclab reads {} to {}", what, version, kOldestReadableSchema, kSchemaVersion));
}

Result result_from_json(const Json& j) {
    auto need = [&](const char* key) -> const Json& {
        if (!j.contains(key)) throw std::runtime_error(fmt::format("result JSON has no '{}'", key));
        return j.at(key);
    };
    require_readable_schema(j.value("schema_version", 0), "result JSON");
    Result r;
    r.demo = need("demo").get<std::string>();
    r.title = j.value("title", "");
    r.proclab_version = j.value("proclab_version", "");
    r.wall_time_s = j.value("wall_time_s", 0.0);
    for (const auto& c : need("claims")) {
        auto verdict = verdict_from_string(c.at("verdict").get<std::string>());
        if (!verdict) throw std::runtime_error("unknown verdict '" + c.at("verdict").get<std::string>() + "'");
        r.claims.push_back(c.at("id").get<std::string>());
        r.verdicts.push_back({c.at("id").get<std::string>(), *verdict, c.value("reason", ""), c.value("summary", "")});
        if (c.contains("trials"))
            for (const auto& t : c.at("trials").at("verdicts"))
                if (auto tv = verdict_from_string(t.get<std::string>())) r.verdicts.back().trial_verdicts.push_back(*tv);
    }
    for (const auto& m : need("metrics"))
        r.metrics.push_back({m.at("name").get<std::string>(), m.at("value").get<double>(), m.value("unit", ""),
                             m.value("description", ""), std::nullopt, m.value("headline", false)});
    need("environment");
    return r;
}

bool want_colour(int fd) {
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    return ::isatty(fd) == 1;
}

std::string format_value(double value, std::string_view unit) {
    if (!std::isfinite(value)) return fmt::format("{} {}", value, unit);
    if (unit == "ns") {
        const double a = std::fabs(value);
        if (a >= 1e9) return fmt::format("{:.3g} s", value / 1e9);
        if (a >= 1e6) return fmt::format("{:.3g} ms", value / 1e6);
        if (a >= 1e3) return fmt::format("{:.3g} µs", value / 1e3);
        return fmt::format("{:.3g} ns", value);
    }
    if (unit == "bytes") {
        const double a = std::fabs(value);
        if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.3g} GiB", value / (1024.0 * 1024 * 1024));
        if (a >= 1024.0 * 1024) return fmt::format("{:.3g} MiB", value / (1024.0 * 1024));
        if (a >= 1024.0) return fmt::format("{:.3g} KiB", value / 1024.0);
        return fmt::format("{} B", value);
    }
    if (unit == "B/s") {
        const double a = std::fabs(value);
        if (a >= 1024.0 * 1024 * 1024) return fmt::format("{:.3g} GiB/s", value / (1024.0 * 1024 * 1024));
        if (a >= 1024.0 * 1024) return fmt::format("{:.3g} MiB/s", value / (1024.0 * 1024));
        if (a >= 1024.0) return fmt::format("{:.3g} KiB/s", value / 1024.0);
        return fmt::format("{:.3g} B/s", value);
    }
    if (unit == "count") return fmt::format("{:.0f}", value);
    if (unit.empty() || unit == "ratio") return fmt::format("{:.3g}", value);
    return fmt::format("{:.3g} {}", value, unit);
}

std::string colour_verdict(Verdict v, bool colour) {
    const auto text = std::string(to_string(v));
    if (!colour) return text;
    const char* code = "";
    switch (v) {
        case Verdict::confirmed: code = "\033[32m"; break;
        case Verdict::refuted: code = "\033[31;1m"; break;
        case Verdict::nuanced: code = "\033[33m"; break;
        case Verdict::not_measured: code = "\033[90m"; break;
    }
    return code + text + "\033[0m";
}

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0x1b) {  // skip an ANSI escape up to its final letter
            while (i < text.size() && !std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
            continue;
        }
        if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
    }
    return width;
}

std::string wrap(std::string_view text, std::size_t width, std::string_view indent) {
    // Every line, the first included, is taken to start after `indent` columns: the caller
    // prints a prefix of that width before the first line.
    const std::size_t start = display_width(indent);
    const std::size_t room = width > start + 10 ? width - start : 10;
    std::string out;
    std::size_t line = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        const auto word = text.substr(pos, end - pos);
        const auto w = display_width(word);
        if (line > 0 && line + 1 + w > room) {
            out += '\n';
            out += indent;
            line = 0;
        } else if (line > 0) {
            out += ' ';
            ++line;
        }
        out += word;
        line += w;
        pos = end + 1;
    }
    return out;
}

std::string TextTable::render(std::string_view indent) const {
    std::vector<std::size_t> widths(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));
    };
    measure(header_);
    for (const auto& row : rows_) measure(row);

    auto line = [&](const std::vector<std::string>& row) {
        std::string out(indent);
        for (std::size_t i = 0; i < widths.size(); ++i) {
            const std::string cell = i < row.size() ? row[i] : "";
            out += cell;
            if (i + 1 < widths.size()) out += std::string(widths[i] - display_width(cell) + 2, ' ');
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };
    std::string out = line(header_);
    std::vector<std::string> rule;
    for (auto w : widths) rule.push_back(std::string(w, '-'));
    out += line(rule);
    for (const auto& row : rows_) out += line(row);
    return out;
}

std::string render_environment(const Environment& env) {
    TextTable t({"fact", "value"});
    for (const auto& f : env.facts)
        t.add_row({f.label, f.value ? *f.value : "unknown: " + f.unknown_reason});
    return t.render();
}

std::string render_terminal(const Result& r, const RenderStyle& style) {
    const bool c = style.colour;
    auto bold = [&](std::string_view s) { return c ? fmt::format("\033[1m{}\033[0m", s) : std::string(s); };
    const auto width = static_cast<std::size_t>(std::max(40, style.width));

    std::string out;
    out += bold(fmt::format("{} — {}", r.demo, r.title)) + "\n";
    std::string claim_list;
    for (const auto& id : r.claims) claim_list += (claim_list.empty() ? "" : ", ") + id;
    if (claim_list.empty()) claim_list = "none (an instrument)";
    out += fmt::format("proclab {} · claims {} · wall time {:.2f} s · {}{}\n", r.proclab_version, claim_list,
                       r.wall_time_s, r.config.quick ? "quick run" : "full run",
                       r.config.repeat ? fmt::format(" · repeat {}", r.config.repeat) : "");
    out += fmt::format("clock: CLOCK_MONOTONIC, read overhead {} (subtracted where stated), observed step {}\n\n",
                       format_value(r.clock.read_overhead_ns, "ns"), format_value(r.clock.observed_resolution_ns, "ns"));

    out += bold("Environment") + "\n" + render_environment(r.environment) + "\n";

    for (const auto& t : r.tables) {
        out += bold(t.title) + "\n";
        TextTable tt(t.columns);
        for (const auto& row : t.rows) tt.add_row(row);
        out += tt.render();
        if (!t.note.empty()) out += "  " + wrap(t.note, width, "  ") + "\n";
        out += "\n";
    }

    for (const auto& f : r.figures) {
        out += bold(f.title) + "\n";
        for (const auto& line : f.lines) out += "  " + line + "\n";
        if (!f.note.empty()) out += "  " + wrap(f.note, width, "  ") + "\n";
        out += "\n";
    }

    if (!r.metrics.empty()) {
        out += bold("Metrics") + "\n";
        TextTable mt({"metric", "value", "n", "min", "median", "p99", "max", "cv"});
        for (const auto& m : r.metrics) {
            if (m.summary) {
                const auto& s = *m.summary;
                mt.add_row({m.name, format_value(m.value, m.unit), std::to_string(s.count), format_value(s.min, m.unit),
                            format_value(s.median, m.unit), format_value(s.p99, m.unit), format_value(s.max, m.unit),
                            fmt::format("{:.1f}%", s.cv * 100)});
            } else {
                mt.add_row({m.name, format_value(m.value, m.unit)});
            }
        }
        out += mt.render() + "\n";
    }

    for (const auto& n : r.notes) out += "note: " + wrap(n, width, "      ") + "\n";
    if (!r.notes.empty()) out += "\n";

    if (r.claims.empty()) return out;  // an instrument: figures, no claim of its own
    out += bold("Verdicts") + "\n";
    for (const auto& v : r.verdicts) {
        const auto verdict = colour_verdict(v.verdict, c);
        const auto pad = std::string(13 - std::min<std::size_t>(13, display_width(verdict)), ' ');
        out += fmt::format("  {:<3} {}{} {}\n", v.id, verdict, pad, wrap(v.reason, width, std::string(20, ' ')));
    }
    return out;
}

}  // namespace proclab
