// creation_cost's verdict rule: a pure function, unit-tested in tests/unit/test_creation_cost.cpp.
#pragma once

#include "proclab/interference.hpp"
#include "proclab/result.hpp"

namespace proclab::creation_cost {

inline constexpr double kCostlyRatio = 3.0;  // thread creation >= 3x a pool hand-off: "costly"
inline constexpr double kInterferenceMargin = 0.15;  // other load above 15% of the CPUs: a refutation is not trusted

// fork_ns and spawn_ns: 0 when not measured (--ops without them).
struct Costs {
    double thread_ns = 0, pool_ns = 0, fork_ns = 0, spawn_ns = 0;
    Interference interference;
};

// T8: what would refute it is creating a thread costing no more than handing a task to a running
// pool, measured with the CPUs free; under load a hand-off waits for a worker to be scheduled, so
// a refutation then is not trusted.
ClaimVerdict decide_t8(const Costs& c);

}  // namespace proclab::creation_cost
