#include "proclab/result.hpp"

#include <algorithm>

#include <fmt/format.h>

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

int ClaimVerdict::agreeing_trials() const {
    return static_cast<int>(std::count(trial_verdicts.begin(), trial_verdicts.end(), verdict));
}

ClaimVerdict decide_from_trials(const std::vector<ClaimVerdict>& trials) {
    if (trials.empty()) return {"", Verdict::not_measured, "no trial ran"};
    const int n = static_cast<int>(trials.size());
    std::vector<Verdict> verdicts;
    for (const auto& t : trials) verdicts.push_back(t.verdict);
    auto count = [&](Verdict v) { return static_cast<int>(std::count(verdicts.begin(), verdicts.end(), v)); };
    auto counts_text = [&] {
        std::string out;
        for (Verdict v : {Verdict::confirmed, Verdict::nuanced, Verdict::not_measured, Verdict::refuted})
            if (const int c = count(v); c > 0) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", c, to_string(v));
        return out;
    };
    std::optional<Verdict> winner;
    for (Verdict v : {Verdict::confirmed, Verdict::nuanced, Verdict::not_measured})
        if (2 * count(v) > n) winner = v;
    if (count(Verdict::refuted) == n) winner = Verdict::refuted;

    ClaimVerdict out;
    out.id = trials.front().id;
    out.trial_verdicts = verdicts;
    if (!winner) {
        out.verdict = Verdict::not_measured;
        const auto first_refuted = std::find(verdicts.begin(), verdicts.end(), Verdict::refuted) - verdicts.begin();
        out.reason = fmt::format("the {} trials disagreed ({}), so no verdict holds; trial {} said: {}", n, counts_text(),
                                 first_refuted < n ? first_refuted + 1 : 1, trials[first_refuted < n ? std::size_t(first_refuted) : 0].reason);
        return out;
    }
    out.verdict = *winner;
    const auto& first = *std::find_if(trials.begin(), trials.end(), [&](const auto& t) { return t.verdict == *winner; });
    const int agree = count(*winner);
    out.reason = agree == n ? fmt::format("{} ({} of {} trials)", first.reason, agree, n)
                            : fmt::format("{} ({} of {} trials; all: {})", first.reason, agree, n, counts_text());
    out.summary = first.summary;
    return out;
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
        if (v.id == verdict.id) {
            v.summary = verdict.summary;
            v.trial_verdicts = verdict.trial_verdicts;
        }
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
