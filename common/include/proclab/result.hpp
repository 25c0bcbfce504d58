// What a demo returns: verdicts for its claims, metrics with units (and their statistics where
// there were samples), tables of evidence for people, notes. The terminal report and the JSON are
// two views of this one value (render.hpp); a demo never prints.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

enum class Verdict { confirmed, refuted, nuanced, not_measured };

std::string_view to_string(Verdict v);
std::optional<Verdict> verdict_from_string(std::string_view s);

struct ClaimVerdict {
    ClaimVerdict() = default;
    ClaimVerdict(std::string id_, Verdict verdict_, std::string reason_, std::string summary_ = {})
        : id(std::move(id_)), verdict(verdict_), reason(std::move(reason_)), summary(std::move(summary_)) {}

    std::string id;      // "P1"
    Verdict verdict = Verdict::not_measured;
    std::string reason;  // one sentence naming the evidence, with its numbers
    std::string summary; // the evidence in a few words with the key numbers, for the claims table
    // Where the verdict came from repeated independent trials: each trial's own verdict, in order
    // (empty when it was decided once, from a deterministic observation).
    std::vector<Verdict> trial_verdicts;

    int agreeing_trials() const;
};

// One verdict from R independent trials of the same experiment (docs/schema.md, "Trials"):
// "refuted" only when every trial refuted; otherwise the verdict of a strict majority (more than
// half) of the trials; no majority: not-measured, with the counts. The reason is that of the first
// trial with the winning verdict, followed by the counts ("3 of 3 trials").
ClaimVerdict decide_from_trials(const std::vector<ClaimVerdict>& trials);

struct Metric {
    std::string name;         // stable id: "shm_handoff_round_trip"
    double value = 0;         // the headline figure (the median where there are samples)
    std::string unit;         // "ns", "s", "count", "ratio"
    std::string description;  // for people
    std::optional<Summary> summary;
    bool headline = false;    // one of the demo's headline figures (proclab stability reports its spread)
};

struct Table {
    std::string title;
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::string note;  // printed under the table
};

// Preformatted lines for people (a terminal timeline, a small chart), readable without colour.
struct Figure {
    std::string title;
    std::vector<std::string> lines;
    std::string note;
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

    std::vector<ClaimVerdict> verdicts;
    std::vector<Metric> metrics;
    std::vector<Table> tables;
    std::vector<Figure> figures;
    std::vector<std::string> notes;
    // Demo-specific raw data for plots (docs/schema.md: "raw"), e.g. the run intervals behind a
    // timeline. Kept as JSON text so this header needs no JSON library; empty when there is none.
    std::string raw_json;

    // Filled by the harness (demo_main), not by the demo.
    std::string proclab_version;
    Environment environment;
    ClockCalibration clock;
    RunConfig config;
    double wall_time_s = 0;

    void set_verdict(std::string id, Verdict verdict, std::string reason);
    // A decided verdict with its one-line summary of the evidence.
    void add_verdict(ClaimVerdict verdict, std::string summary);
    const ClaimVerdict* verdict_for(std::string_view id) const;
    Metric& add_metric(std::string name, double value, std::string unit, std::string description);
    Metric& add_metric(std::string name, const Summary& summary, std::string unit, std::string description);
    const Metric* metric(std::string_view name) const;
    Table& add_table(std::string title, std::vector<std::string> columns);

    // Every declared claim gets a verdict: those the demo did not reach become not-measured.
    void complete_verdicts();
    bool any_refuted() const;
};

}  // namespace proclab
