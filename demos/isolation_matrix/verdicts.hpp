// isolation_matrix's verdict rules: pure functions of the matrix and the runaways, unit-tested in
// tests/unit/test_isolation_matrix.cpp. Both rest on deterministic observations (an action
// allowed or refused, a sibling alive or not), so they are decided once, not in trials.
#pragma once

#include "isolation_matrix/matrix.hpp"
#include "isolation_matrix/runaway.hpp"

#include "proclab/evidence.hpp"

#include <vector>

namespace proclab::isolation_matrix {

// P3: refuted only if a prober without ptrace rights (another user, a non-dumpable target, a
// child user namespace) reached the target's memory; nuanced when the same user or root could
// (isolation is enforced per user and privilege); confirmed when every such attempt was refused.
extern const RuleInfo kP3Rule;
extern const RuleInfo kP1Rule;

Decision decide_p3(const std::vector<RelationshipRun>& runs);

// P1: refuted if a sibling died beside a runaway, or if an unprivileged prober of another user
// could signal or trace the target; nuanced where a sibling stalled (no progress in the window:
// possibly other load, so not a refutation), where only our own hard cap stopped a runaway, or
// a process of the same user could signal, trace or re-prioritise another (isolation between
// programs is by user, resources by limits); confirmed otherwise.
Decision decide_p1(const std::vector<RelationshipRun>& runs, const std::vector<RunawayRun>& runaways);

}  // namespace proclab::isolation_matrix
