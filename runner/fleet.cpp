#include "fleet.hpp"

#include "proclab/aggregate.hpp"
#include "proclab/claims.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {

bool FleetMetric::any_flagged() const {
    return std::any_of(cells.begin(), cells.end(), [](const FleetCell& c) { return c.flagged; });
}

bool FleetVerdict::differs() const { return changed(*this); }

std::vector<int> FleetView::flags_per_machine() const {
    std::vector<int> n(machines.size(), 0);
    for (const auto& m : metrics)
        for (std::size_t i = 0; i < m.cells.size(); ++i) n[i] += m.cells[i].flagged;
    return n;
}

FactSplit split_facts(const std::vector<FactRow>& facts) {
    FactSplit split;
    for (const auto& f : facts) {
        if (!f.differs) {
            split.same.push_back(fmt::format("{} {}", f.label, f.values.front()));
            continue;
        }
        auto& row = split.differing.emplace_back(std::vector<std::string>{f.label});
        row.insert(row.end(), f.values.begin(), f.values.end());
    }
    return split;
}

namespace {

const std::vector<double>* distribution_of(const Metric* m) {
    return m && m->summary && !m->summary->distribution.empty() ? &m->summary->distribution : nullptr;
}

FleetMetric metric_across(const std::vector<LoadedRun>& machines, const std::string& demo, const Metric& first) {
    FleetMetric fm;
    fm.demo = demo;
    fm.name = first.name;
    fm.unit = first.unit;
    std::vector<const Metric*> found;
    std::vector<double> values;
    for (const auto& machine : machines) {
        const Metric* m = find_metric(machine.suite, demo, first.name);
        found.push_back(m);
        fm.cells.emplace_back();
        if (!m) continue;
        fm.headline = fm.headline || m->headline;
        fm.cells.back().value = m->value;
        if (!emulated(machine.suite)) values.push_back(m->value);  // the median is the real machines
    }
    fm.reporting = values.size();
    if (values.empty()) return fm;
    fm.median = median_of(values);
    for (std::size_t i = 0; i < machines.size(); ++i) {
        FleetCell& cell = fm.cells[i];
        if (!cell.value) continue;
        if (fm.median != 0) cell.ratio = *cell.value / fm.median;
        // An emulated machine's timings are neither flagged nor pooled with the others'.
        const auto* own = emulated(machines[i].suite) ? nullptr : distribution_of(found[i]);
        if (!own) continue;
        std::vector<double> rest;
        for (std::size_t j = 0; j < machines.size(); ++j)
            if (j != i && !emulated(machines[j].suite))
                if (const auto* d = distribution_of(found[j])) rest.insert(rest.end(), d->begin(), d->end());
        cell.p = mann_whitney_p(*own, rest);
        cell.flagged = beyond_noise(cell.p, cell.ratio);
    }
    return fm;
}

}  // namespace

std::string fleet_cell_text(const FleetCell& c, Unit unit) {
    if (!c.value) return "-";
    std::string s = format_value(*c.value, unit);
    if (c.ratio) s += fmt::format(" ({:.2f})", *c.ratio);
    return s;
}

bool fleet_shown(const FleetMetric& m, bool all) { return m.reporting >= 2 && (all || m.headline || m.any_flagged()); }

std::string fleet_rule_sentence() {
    return fmt::format(
        "A machine is flagged (marked) on a metric when its samples differ from the pooled samples of the other "
        "machines "
        "(Mann-Whitney U, two-sided, p < {}) and its value is outside 1 +- {:.0f}% of the fleet median. In brackets: "
        "the "
        "value's ratio to the fleet median.",
        kCompareAlpha, 100 * kCompareMinEffect);
}

FleetView fleet_view(std::vector<LoadedRun> machines, std::vector<bool> from_corpus) {
    FleetView v;
    v.machines = std::move(machines);
    v.from_corpus = std::move(from_corpus);
    v.from_corpus.resize(v.machines.size(), false);
    v.facts = fact_rows(v.machines);
    {
        // How each suite ran: a --quick run beside a full one differs by method, not by machine.
        FactRow mode{"suite", {}, false};
        for (const auto& m : v.machines) mode.values.push_back(suite_mode(m.suite));
        mode.differs = values_differ(mode.values);
        v.facts.insert(v.facts.begin(), std::move(mode));
    }
    // Metrics: in the order the machines report them (the first machine's first), each once.
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& machine : v.machines)
        for (const auto& run : machine.suite.runs) {
            if (!run.result) continue;
            for (const auto& m : run.result->metrics) {
                if (!seen.insert({run.name, m.name}).second) continue;
                auto fm = metric_across(v.machines, run.name, m);
                if (fm.reporting >= 2) v.metrics.push_back(std::move(fm));
            }
        }
    for (auto& verdicts : verdict_rows(v.machines)) {
        FleetVerdict row{std::move(verdicts), {}};
        row.usual = most_common(row.verdicts, row.verdicts).value_or(std::nullopt);  // a tie: the earliest machine's
        v.verdicts.push_back(std::move(row));
    }
    // What the reader should know before trusting a flag.
    if (v.machines.size() == 2)
        v.notes.push_back(
            "With two machines the fleet median is their midpoint: a flag says the two differ, not which one is odd. "
            "A third machine (or --with-corpus) tells which.");
    std::set<std::string> versions;
    for (const auto& m : v.machines) versions.insert(m.suite.proclab_version);
    if (v.facts.front().differs)
        v.notes.push_back(
            "The suites ran in different modes (full and --quick): a quick run's shorter cells and fewer trials can "
            "move a metric "
            "and a verdict on the same machine.");
    if (versions.size() > 1)
        v.notes.push_back(fmt::format(
            "The runs come from different proclab versions ({}): a metric may differ because the method did.",
            fmt::join(versions, ", ")));
    for (const auto& demo : demo_names()) {
        std::vector<std::string> with, without;
        for (const auto& m : v.machines) (ran(m.suite, demo) ? with : without).push_back(m.label);
        if (!with.empty() && !without.empty())
            v.notes.push_back(fmt::format("{} has no result from {}.", demo, fmt::join(without, ", ")));
    }
    for (const auto& m : v.machines)
        if (emulated(m.suite))
            v.notes.push_back(fmt::format("{} ({}) ran on an emulated machine ({}): its timings are never flagged.",
                                          m.label, m.path, *m.suite.environment.find("emulated")->value));
    for (const auto& m : v.machines)
        if (m.suite.schema_version < 2)
            v.notes.push_back(
                fmt::format("{} ({}) is schema {}: its metrics carry no distributions, so it is never flagged.",
                            m.label, m.path, m.suite.schema_version));
    return v;
}

}  // namespace proclab::suite
