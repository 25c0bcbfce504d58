// How verdicts are combined, every rule side by side (docs/schema.md states each):
//   combine_verdicts    several demos' verdicts on one claim, in one suite run;
//   decide_from_trials  R independent trials of one experiment, in one demo;
//   most_common         one claim over many runs (stability) or many machines (fleet), with the
//                       tie rule named by the caller.
#pragma once

#include "proclab/evidence.hpp"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace proclab {

// One verdict from several demos' verdicts on the same claim: any refuted -> refuted; else any
// nuanced -> nuanced; else any confirmed -> confirmed; else (nothing measured it) not-measured.
Verdict combine_verdicts(std::span<const Verdict> verdicts);

// One verdict from R independent trials of the same experiment (docs/schema.md, "Trials"):
// "refuted" only when every trial refuted; otherwise the verdict of a strict majority (more than
// half) of the trials; no majority: not-measured, with the counts. The sentences are those of the
// first trial with the winning verdict (the trial shown), its facts with the counts added.
// `prefer`: the trial to show when it has the winning verdict (the trial the demo's tables show),
// so the sentence and the tables quote the same trial.
Decision decide_from_trials(const std::vector<Decision>& trials, std::optional<std::size_t> prefer = std::nullopt);

// The value seen most often in `values`; a tie goes to the tied value that comes first in
// `tie_order` (stability: the verdicts' own order, confirmed first; fleet: the machines' order,
// so `values` itself). A value missing from `tie_order` loses every tie. Empty `values`: none.
template <class T>
std::optional<T> most_common(const std::vector<T>& values, const std::vector<T>& tie_order) {
    std::optional<T> best;
    std::ptrdiff_t best_count = 0;
    auto rank = [&](const T& v) {
        const auto it = std::find(tie_order.begin(), tie_order.end(), v);
        return it - tie_order.begin();  // tie_order.size() when missing
    };
    for (const T& v : values) {
        const auto n = std::count(values.begin(), values.end(), v);
        if (!best || n > best_count || (n == best_count && rank(v) < rank(*best))) {
            best = v;
            best_count = n;
        }
    }
    return best;
}

}  // namespace proclab
