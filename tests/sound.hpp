// For verdict-rule tests: a decision whose sentences pass the sentence check (evidence.hpp:
// every number a fact, every quantifier from a fact, every outcome word backed), else the test
// fails naming the problems. Wrap every call of a rule: each branch a test reaches is checked.
#pragma once

#include "proclab/evidence.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace proclab::test {

inline Decision sound(Decision d) {
    const auto problems = check_sentence(d);
    std::string all;
    for (const auto& p : problems) all += "\n  " + p;
    INFO(d.claim << " " << to_string(d.verdict) << ": " << d.reason << all);
    CHECK(problems.empty());
    CHECK_NOTHROW(d.reason_text());
    CHECK_NOTHROW(d.summary_text());
    CHECK_FALSE(d.refuted_by.empty());
    return d;
}

}  // namespace proclab::test
