#include "proclab/result.hpp"

#include <algorithm>

namespace proclab {

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::confirmed: return "confirmed";
        case Verdict::refuted: return "refuted";
        case Verdict::nuanced: return "nuanced";
        case Verdict::not_measured: return "not-measured";
    }
    return "not-measured";
}

std::optional<Verdict> verdict_from_string(std::string_view s) {
    for (Verdict v : {Verdict::confirmed, Verdict::refuted, Verdict::nuanced, Verdict::not_measured})
        if (to_string(v) == s) return v;
    return std::nullopt;
}

void Result::set_verdict(std::string id, Verdict verdict, std::string reason) {
    for (auto& v : verdicts)
        if (v.id == id) {
            v.verdict = verdict;
            v.reason = std::move(reason);
            return;
        }
    verdicts.push_back({std::move(id), verdict, std::move(reason)});
}

void Result::add_verdict(ClaimVerdict verdict, std::string summary) {
    verdict.summary = std::move(summary);
    set_verdict(verdict.id, verdict.verdict, verdict.reason);
    for (auto& v : verdicts)
        if (v.id == verdict.id) v.summary = verdict.summary;
}

const ClaimVerdict* Result::verdict_for(std::string_view id) const {
    for (const auto& v : verdicts)
        if (v.id == id) return &v;
    return nullptr;
}

Metric& Result::add_metric(std::string name, double value, std::string unit, std::string description) {
    metrics.push_back({std::move(name), value, std::move(unit), std::move(description), std::nullopt});
    return metrics.back();
}

Metric& Result::add_metric(std::string name, const Summary& summary, std::string unit, std::string description) {
    metrics.push_back({std::move(name), summary.median, std::move(unit), std::move(description), summary});
    return metrics.back();
}

const Metric* Result::metric(std::string_view name) const {
    for (const auto& m : metrics)
        if (m.name == name) return &m;
    return nullptr;
}

Table& Result::add_table(std::string title, std::vector<std::string> columns) {
    tables.push_back({std::move(title), std::move(columns), {}, {}});
    return tables.back();
}

void Result::complete_verdicts() {
    for (const auto& id : claims)
        if (!verdict_for(id))
            verdicts.push_back({id, Verdict::not_measured, "the demo did not reach a measurement for this claim"});
    // Present verdicts in the order the claims were declared.
    std::stable_sort(verdicts.begin(), verdicts.end(), [&](const ClaimVerdict& a, const ClaimVerdict& b) {
        auto rank = [&](const std::string& id) {
            return std::find(claims.begin(), claims.end(), id) - claims.begin();
        };
        return rank(a.id) < rank(b.id);
    });
}

bool Result::any_refuted() const {
    return std::any_of(verdicts.begin(), verdicts.end(), [](const auto& v) { return v.verdict == Verdict::refuted; });
}

}  // namespace proclab
