// The trial loop every trial-based demo runs (docs/schema.md, "Trials"): R independent trials of
// one experiment, the interference around each (what else used the CPUs), each trial decided on
// its own by the demo's rules, the decisions combined per claim (decide_from_trials), and the trial
// shown in detail: the first that agrees with the combined verdict of the first rule.
#pragma once

#include "proclab/aggregate.hpp"
#include "proclab/evidence.hpp"
#include "proclab/interference.hpp"
#include "proclab/progress.hpp"
#include "proclab/result.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace proclab {

template <class Evidence>
struct Trials {
    std::vector<Evidence> evidence;                // one per trial
    std::vector<Interference> interference;        // around each trial
    std::vector<std::vector<Decision>> decisions;  // [trial][rule]
    std::vector<Decision> combined;                // [rule]
    std::size_t shown = 0;

    int count() const { return static_cast<int>(evidence.size()); }
    const Evidence& shown_evidence() const { return evidence.at(shown); }
    // The trials' windows together; known when every trial's was (summing into a default
    // Interference, unknown and with no reason, said "interference unknown ()").
    Interference total_interference() const {
        if (interference.empty()) return Interference{.unknown_reason = "no trial ran"};
        Interference all = interference.front();
        for (std::size_t i = 1; i < interference.size(); ++i) all += interference[i];
        return all;
    }
};

// measure(trial index) -> Evidence; decide(const Evidence&, const Interference&) -> one Decision
// per rule, in the same order every trial. The interference probe starts before measure() and
// stops after it returns (children reaped by then).
template <class Measure, class Decide>
auto run_trials(int count, const std::vector<int>& cpus, Measure measure, Decide decide) {
    using Evidence = std::decay_t<std::invoke_result_t<Measure&, int>>;
    Trials<Evidence> t;
    for (int r = 0; r < count; ++r) {
        progress::step(fmt::format("trial {} of {}", r + 1, count));  // before the probe: not in its window
        const InterferenceProbe probe(cpus);
        Evidence e = measure(r);
        t.interference.push_back(probe.stop());
        t.decisions.push_back(decide(e, t.interference.back()));
        t.evidence.push_back(std::move(e));
    }
    // The first rule's combined decision picks the trial shown; every other rule quotes that same
    // trial where it agrees with its own verdict there (its sentence names the trial it quotes).
    const std::size_t rules = t.decisions.empty() ? 0 : t.decisions.front().size();
    for (std::size_t k = 0; k < rules; ++k) {
        std::vector<Decision> each;
        for (const auto& d : t.decisions) each.push_back(d.at(k));
        t.combined.push_back(decide_from_trials(each, k == 0 ? std::nullopt : std::optional<std::size_t>(t.shown)));
        if (k == 0)
            for (const Fact& f : t.combined.front().facts)
                if (f.id == "shown_trial") t.shown = static_cast<std::size_t>(f.number()) - 1;
    }
    return t;
}

// The trials table: trial (the one shown marked), interference with its counting resolution
// (/proc/stat counts in ticks: a short trial's figure is coarse), the demo's own columns (row(e)
// gives their cells), and each rule's verdict in that trial.
template <class Evidence, class Row>
Table trials_table(const Trials<Evidence>& t, std::string title, std::vector<Column> columns, Row row) {
    Table out;
    out.title = std::move(title);
    out.columns = {Column{"trial"}, Column{"interference", "fraction"}, Column{"+-", "fraction"}};
    out.columns.insert(out.columns.end(), columns.begin(), columns.end());
    for (const auto& d : t.combined) out.columns.emplace_back(d.claim);
    for (std::size_t r = 0; r < t.evidence.size(); ++r) {
        const Interference& i = t.interference[r];
        std::vector<Cell> cells{fmt::format("{}{}", r + 1, r == t.shown ? " (shown)" : ""),
                                i.known ? Cell{i.fraction()} : Cell{"unknown"},
                                i.known ? Cell{std::min(1.0, i.resolution())} : Cell{}};
        for (auto& c : row(t.evidence[r])) cells.push_back(std::move(c));
        for (const auto& d : t.decisions[r]) cells.emplace_back(std::string(to_string(d.verdict)));
        out.rows.push_back(std::move(cells));
    }
    return out;
}

}  // namespace proclab
