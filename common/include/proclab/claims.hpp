// The claims of docs/claims.md, by id, in a few words each, and the rule that combines
// the verdicts of several demos on one claim.
#pragma once

#include "proclab/result.hpp"

#include <span>
#include <string_view>
#include <vector>

namespace proclab {

struct ClaimInfo {
    std::string_view id;
    std::string_view statement;  // the notes' statement, in a few words
};

// P1-P4 then T1-T9, in that order.
std::span<const ClaimInfo> all_claims();
const ClaimInfo* find_claim(std::string_view id);

// combine_verdicts(), the rule that makes one verdict of several demos', is in aggregate.hpp
// beside the other ways verdicts are combined.

}  // namespace proclab
