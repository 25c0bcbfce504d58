// The fleet for people (a View, drawn by view.hpp's renderers), its JSON and its plot, from one
// FleetView (fleet.cpp builds it).
#include "fleet.hpp"

#include "proclab/aggregate.hpp"
#include "proclab/claims.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {

namespace {

std::string machine_title(const FleetView& v, std::size_t i) {
    return v.from_corpus[i] ? "corpus: " + v.machines[i].label : v.machines[i].label;
}

std::string flag_summary(const FleetView& v) {
    const auto flags = v.flags_per_machine();
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < flags.size(); ++i) parts.push_back(fmt::format("{} {}", v.machines[i].label, flags[i]));
    return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace

View view_of(const FleetView& v, bool all) {
    View out{.title = fmt::format("proclab compare: a fleet of {} machines", v.machines.size())};
    std::vector<std::string> machines, names;
    // The corpus's runs all come from one folder (--corpus DIR or the installed one): it is named
    // once, and each of its runs by its name, which is its file's name there.
    std::string corpus_folder;
    for (std::size_t i = 0; i < v.machines.size(); ++i) {
        const std::filesystem::path path = v.machines[i].path;
        if (v.from_corpus[i]) corpus_folder = path.parent_path().string();
        const auto where = v.from_corpus[i] ? std::string() : " = " + path.string();
        machines.push_back(fmt::format("{}{} (proclab {}, schema {})", machine_title(v, i), where,
                                       v.machines[i].suite.proclab_version, v.machines[i].suite.schema_version));
        names.push_back(v.machines[i].label);
    }
    if (!corpus_folder.empty())
        machines.push_back("corpus = " + corpus_folder + " (a run's file there is its name and .json)");
    out.items(std::move(machines));
    auto columns = [&](std::vector<std::string> first) {
        first.insert(first.end(), names.begin(), names.end());
        return first;
    };

    const auto facts = split_facts(v.facts);
    out.heading(fmt::format("Facts that differ: {}", facts.differing.size()));
    if (!facts.differing.empty()) {
        ViewTable t{.columns = columns({"fact"}), .cards = true};
        for (const auto& row : facts.differing) t.rows.emplace_back(row.begin(), row.end());
        out.table(std::move(t));
    }
    if (!facts.same.empty()) out.note(fmt::format("The same on every machine: {}.", fmt::join(facts.same, "; ")));

    ViewTable verdicts{.columns = columns({"claim"}), .terminal_mark = " *", .cards = true};
    std::vector<std::string> why;
    for (const auto& row : v.verdicts) {
        if (!row.differs()) continue;
        std::vector<ViewCell> cells{row.id};
        for (std::size_t i = 0; i < row.verdicts.size(); ++i) {
            const bool odd = row.verdicts[i] != row.usual;
            cells.push_back(verdict_cell(row.verdicts[i], odd));
            if (odd) why.push_back(fmt::format("{} on {}: {}", row.id, v.machines[i].label, row.evidence[i]));
        }
        verdicts.rows.push_back(std::move(cells));
    }
    out.heading(fmt::format("Verdicts that differ between machines: {}", verdicts.rows.size()));
    if (verdicts.rows.empty()) {
        out.paragraph("None: every claim has the same verdict on every machine.");
    } else {
        out.note(
            "Marked: a verdict that is not the fleet's most common (in a tie, the earliest machine's counts as that).");
        out.table(std::move(verdicts)).items(std::move(why));
    }

    ViewTable metrics{.columns = columns({"demo", "metric", "fleet median"}), .terminal_mark = " *", .cards = true};
    int flagged_metrics = 0;
    for (const auto& m : v.metrics) {
        flagged_metrics += m.any_flagged();
        if (!fleet_shown(m, all)) continue;
        std::vector<ViewCell> row{m.demo, m.name, format_value(m.median, m.unit)};
        for (const auto& c : m.cells) row.push_back(flag_cell(fleet_cell_text(c, m.unit), c.flagged));
        metrics.rows.push_back(std::move(row));
    }
    out.heading("Metrics");
    out.paragraph(
        fmt::format("{} reported by two machines or more, {} with a machine flagged; flags per machine: {}; shown: {}.",
                    v.metrics.size(), flagged_metrics, flag_summary(v),
                    all ? "every metric two machines or more report"
                        : "the headline metrics and those with a flag (--all: every one)"));
    out.note(fleet_rule_sentence());
    out.table(std::move(metrics));
    if (!v.notes.empty()) out.items(v.notes);
    return out;
}

Json fleet_json(const FleetView& v, bool all) {
    Json j{{"schema_version", kSchemaVersion},
           {"kind", "fleet"},
           {"alpha", kCompareAlpha},
           {"min_effect", kCompareMinEffect}};
    Json machines = Json::array();
    const auto flags = v.flags_per_machine();
    for (std::size_t i = 0; i < v.machines.size(); ++i)
        machines.push_back({{"name", v.machines[i].label},
                            {"path", v.machines[i].path},
                            {"corpus", bool(v.from_corpus[i])},
                            {"proclab_version", v.machines[i].suite.proclab_version},
                            {"schema_version", v.machines[i].suite.schema_version},
                            {"flagged_metrics", flags[i]}});
    j["machines"] = std::move(machines);
    Json facts = Json::array();
    for (const auto& f : v.facts) facts.push_back({{"label", f.label}, {"values", f.values}, {"differs", f.differs}});
    j["facts"] = std::move(facts);
    Json verdicts = Json::array();
    for (const auto& row : v.verdicts)
        verdicts.push_back({{"id", row.id},
                            {"verdicts", verdict_texts(row)},
                            {"evidence", row.evidence},
                            {"usual", verdict_text(row.usual)},
                            {"differs", row.differs()}});
    j["verdicts"] = std::move(verdicts);
    Json metrics = Json::array();
    for (const auto& m : v.metrics) {
        Json cells = Json::array();
        for (std::size_t i = 0; i < m.cells.size(); ++i) {
            const auto& c = m.cells[i];
            cells.push_back({{"machine", v.machines[i].label},
                             {"value", c.value ? Json(*c.value) : Json(nullptr)},
                             {"ratio", c.ratio ? Json(*c.ratio) : Json(nullptr)},
                             {"p", c.p ? Json(*c.p) : Json(nullptr)},
                             {"flagged", c.flagged}});
        }
        metrics.push_back({{"demo", m.demo},
                           {"name", m.name},
                           {"unit", m.unit},
                           {"headline", m.headline},
                           {"median", m.median},
                           {"reporting", m.reporting},
                           {"shown", fleet_shown(m, all)},
                           {"machines", std::move(cells)}});
    }
    j["metrics"] = std::move(metrics);
    j["notes"] = v.notes;
    return j;
}

plot::Plot fleet_plot(const FleetView& v, bool all) {
    std::vector<const FleetMetric*> rows;
    auto spread = [](const FleetMetric* m) {
        double most = 0;
        for (const auto& c : m->cells)
            if (c.ratio) most = std::max(most, std::abs(std::log(std::max(*c.ratio, kFleetPlotFloor))));
        return most;
    };
    for (const auto& m : v.metrics)
        if (fleet_shown(m, all) &&
            std::any_of(m.cells.begin(), m.cells.end(), [](const FleetCell& c) { return c.ratio.has_value(); }))
            rows.push_back(&m);
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const FleetMetric* a, const FleetMetric* b) { return spread(a) > spread(b); });
    if (rows.size() > kPlotRows) rows.resize(kPlotRows);
    std::reverse(rows.begin(), rows.end());  // the most deviant at the top
    plot::Plot out{.file = "fleet.png",
                   .caption = "Each machine's ratio to the fleet median per shown metric; filled: flagged.",
                   .width = 8.5,
                   .height = 1.6 + 0.3 * double(rows.size())};
    if (rows.empty()) return out;
    plot::Panel panel{.title = fmt::format("proclab compare: a fleet of {} machines", v.machines.size()),
                      .x = {.label = fmt::format(
                                "ratio to the fleet median (log scale; below {0:g} drawn at {0:g})\nfilled: flagged "
                                "(Mann-Whitney U against the rest p < {1:g}, and outside 1 ± {2:.0f}% of the median)",
                                kFleetPlotFloor, kCompareAlpha, 100 * kCompareMinEffect),
                            .scale = plot::Scale::log},
                      .legend_size = 8};
    std::vector<std::string> labels;
    for (const auto* m : rows) labels.push_back(fmt::format("{}: {}", m->demo, m->name));
    plot::set_categories(panel.y, labels);
    const char* markers[] = {"o", "s", "^", "D", "v", "P", "X", "*"};
    for (std::size_t i = 0; i < v.machines.size(); ++i) {
        plot::Series flagged{
            .mark = plot::Mark::scatter, .colour = int(i), .line = "", .marker = markers[i % 8], .width = 36};
        plot::Series calm = flagged;
        calm.hollow = true;
        for (std::size_t y = 0; y < rows.size(); ++y) {
            const FleetCell& c = rows[y]->cells[i];
            if (!c.ratio || !c.value) continue;
            auto& s = c.flagged ? flagged : calm;
            s.x.push_back(std::max(*c.ratio, kFleetPlotFloor));
            s.y.push_back(double(y));
        }
        (calm.x.empty() ? flagged : calm).label = v.machines[i].label;  // one legend entry per machine
        for (auto* s : {&calm, &flagged})
            if (!s->x.empty()) panel.series.push_back(std::move(*s));
    }
    panel.series.push_back({.mark = plot::Mark::vline, .x = {1}, .colour = 7});
    out.panels.push_back(std::move(panel));
    return out;
}

}  // namespace proclab::suite
