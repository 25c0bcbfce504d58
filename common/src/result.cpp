#include "proclab/result.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace proclab {

void Result::set_verdict(std::string id, Verdict verdict, std::string reason) {
    add_decision(Decision(std::move(id), verdict, std::move(reason)));
}

void Result::add_decision(Decision decision) {
    for (auto& v : verdicts)
        if (v.claim == decision.claim) {
            v = std::move(decision);
            return;
        }
    verdicts.push_back(std::move(decision));
}

const Decision* Result::verdict_for(std::string_view id) const {
    for (const auto& v : verdicts)
        if (v.claim == id) return &v;
    return nullptr;
}

Metric& Result::add_metric(std::string name, double value, Unit unit, std::string description) {
    metrics.push_back({std::move(name), value, unit, std::move(description), std::nullopt});
    return metrics.back();
}

Metric& Result::add_metric(std::string name, const Summary& summary, Unit unit, std::string description) {
    metrics.push_back({std::move(name), summary.median, unit, std::move(description), summary});
    return metrics.back();
}

const Metric* Result::metric(std::string_view name) const {
    for (const auto& m : metrics)
        if (m.name == name) return &m;
    return nullptr;
}

Table& Result::add_table(std::string title, std::vector<Column> columns) {
    tables.push_back({std::move(title), std::move(columns), {}, {}});
    return tables.back();
}

void Result::complete_verdicts() {
    for (const auto& id : claims)
        if (!verdict_for(id))
            verdicts.push_back(
                Decision(id, Verdict::not_measured, "the demo did not reach a measurement for this claim"));
    for (auto& v : verdicts)
        for (const auto& rule : rules)
            if (rule.claim == v.claim && v.refuted_by.empty()) {
                v.refuted_by = rule.refuted_by;
                v.guarantee = rule.guarantee;
            }
    // Present verdicts in the order the claims were declared.
    std::stable_sort(verdicts.begin(), verdicts.end(), [&](const Decision& a, const Decision& b) {
        auto rank = [&](const std::string& id) { return std::find(claims.begin(), claims.end(), id) - claims.begin(); };
        return rank(a.claim) < rank(b.claim);
    });
}

bool Result::any_refuted() const {
    return std::any_of(verdicts.begin(), verdicts.end(), [](const auto& v) { return v.verdict == Verdict::refuted; });
}

}  // namespace proclab
