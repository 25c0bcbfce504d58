// creation_cost's rule (T8): a pure function, unit-tested in tests/unit/test_creation_cost.cpp.
#pragma once

#include "creation_cost/operations.hpp"

#include "proclab/evidence.hpp"
#include "proclab/interference.hpp"

#include <optional>

namespace proclab::creation_cost {

inline constexpr double kCostlyRatio = 3.0;          // thread creation >= 3x a pool hand-off: "costly"
inline constexpr double kInterferenceMargin = 0.15;  // other load possibly above 15% of the CPUs: no verdict

extern const RuleInfo kT8Rule;

// One trial's evidence: a thread created and joined, beside a task handed to a pool's worker.
struct Costs {
    Summary thread;                 // std::thread create + join, ns
    PoolHandoff pool;               // the hand-off the verdict stands on
    std::optional<double> fork_ns;  // fork + exit + wait (table 1), when measured
    Interference interference;
    std::optional<double> quota_cpus;  // the cgroup's CPU quota (Environment::cpu_quota_cpus)
    int cpus = 2;                      // the CPUs allowed (the quota binds below this)
};

// T8: what would refute it is creating a thread costing no more than handing a task to a running
// pool's worker, measured with the CPUs free. The hand-off must be one: every task run by the
// worker (a caller that runs its own task hands nothing off), and not faster than a cache line's
// round trip between the two CPUs; otherwise no verdict stands on it. Under load a hand-off waits
// for the worker to be scheduled and a new thread for its first slice, so no verdict is given
// unless the load was surely within the margin (Interference::clear_of).
Decision decide_t8(const Costs& c);

}  // namespace proclab::creation_cost
