// What a demo returns: verdicts for its claims, metrics with units (and their statistics where
// there were samples), tables of evidence for people, notes. The terminal report and the JSON are
// two views of this one value (render.hpp); a demo never prints.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/environment.hpp"
#include "proclab/evidence.hpp"
#include "proclab/plot.hpp"
#include "proclab/stats.hpp"

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace proclab {

using Json = nlohmann::ordered_json;

struct Metric {
    std::string name;         // stable id: "shm_handoff_round_trip"
    double value = 0;         // the headline figure (the median where there are samples)
    Unit unit;                // units.hpp
    std::string description;  // for people
    std::optional<Summary> summary;
    bool headline = false;  // one of the demo's headline figures (proclab stability reports its spread)
};

// A table column: its label and the unit of its number cells (evidence.hpp's units; "" for text).
struct Column {
    Column() = default;
    Column(const char* label_) : label(label_) {}
    Column(std::string label_, Unit unit_ = {}) : label(std::move(label_)), unit(unit_) {}
    std::string label;
    Unit unit;
    bool operator==(const Column&) const = default;
};

// A cell: missing, a number (rendered by its column's unit), or text. (A struct rather than a
// std::variant: GCC 12 warns falsely about moved variants in vectors.)
struct Cell {
    enum class Kind { missing, number, text };
    Cell() = default;
    Cell(double v) : kind(Kind::number), number(v) {}
    Cell(std::string s) : kind(Kind::text), text(std::move(s)) {}
    Cell(const char* s) : kind(Kind::text), text(s) {}

    Kind kind = Kind::missing;
    double number = 0;
    std::string text;

    bool is_number() const { return kind == Kind::number; }
    bool is_text() const { return kind == Kind::text; }
    bool operator==(const Cell&) const = default;
};

// A typed table: every renderer (terminal, Markdown, HTML, JSON) formats its numbers the same way,
// from the column's unit (render.hpp).
struct Table {
    std::string title;
    std::vector<Column> columns;
    std::vector<std::vector<Cell>> rows;
    std::string note;  // printed under the table: the method, never a number of this run
    bool operator==(const Table&) const = default;
};

// Preformatted lines for people (a terminal timeline, a small chart), readable without colour.
struct Figure {
    std::string title;
    std::vector<std::string> lines;
    std::string note;
    bool operator==(const Figure&) const = default;
};

// How the run was configured: part of every result so a number never travels without it.
struct RunConfig {
    bool quick = false;
    int repeat = 0;  // repetitions the demo actually used for its main measurements
    double timeout_s = 0;
    int trials = 0;  // independent trials behind its verdicts (0: decided once)
};

struct Result {
    std::string demo;
    std::string title;
    std::vector<std::string> claims;  // the claim ids this demo covers

    std::vector<Decision> verdicts;
    std::vector<RuleInfo> rules;  // the rule behind each claim (filled by the harness from the spec)
    std::vector<Metric> metrics;
    // A deque: add_table() returns a reference that stays valid while later tables are added.
    std::deque<Table> tables;
    std::vector<Figure> figures;
    std::vector<std::string> notes;
    // Demo-specific series for plots (docs/schema.md: "raw"), e.g. the run intervals behind a
    // timeline; an object, empty when there is none.
    Json raw = Json::object();
    // What to draw, as data (plot.hpp): runner/plot_report.py draws each one without knowing the demo.
    std::vector<plot::Plot> plots;

    // Filled by the harness (demo_main), not by the demo.
    std::string proclab_version;
    Environment environment;
    ClockCalibration clock;
    RunConfig config;
    double wall_time_s = 0;

    // A verdict whose sentence is fixed text (no rule ran: the harness's own, and tests).
    void set_verdict(std::string id, Verdict verdict, std::string reason);
    // A rule's decision; one per claim (a later one for the same claim replaces it).
    void add_decision(Decision decision);
    const Decision* verdict_for(std::string_view id) const;
    Metric& add_metric(std::string name, double value, Unit unit, std::string description);
    Metric& add_metric(std::string name, const Summary& summary, Unit unit, std::string description);
    const Metric* metric(std::string_view name) const;
    Table& add_table(std::string title, std::vector<Column> columns);

    // Every declared claim gets a verdict: those the demo did not reach become not-measured. Each
    // carries what would refute its claim, from `rules`.
    void complete_verdicts();
    bool any_refuted() const;
};

}  // namespace proclab
