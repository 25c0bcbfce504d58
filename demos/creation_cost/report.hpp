// creation_cost's report: table 1 (every operation), T8's trials, table 2 (fork against the
// parent's size), table 3 (a pool against a thread per task), the metrics and the raw series, all
// rendered from what was measured. Nothing here measures or decides.
#pragma once

#include "creation_cost/operations.hpp"
#include "creation_cost/sweeps.hpp"
#include "creation_cost/verdicts.hpp"

#include "proclab/demo.hpp"
#include "proclab/trials.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::creation_cost {

// One operation of table 1, timed from this parent.
struct TimedOp {
    std::string id;    // its metric id
    std::string what;  // its row label
    Summary s;
    ParentConditions conditions;
    KernelCounts counted;  // the parent thread's own events per operation, in an untimed pass
};

// Processes, timed first from a single-threaded small parent pinned to one CPU (tables 1 and 2).
struct ProcessCosts {
    int home_cpu = 0;
    int procs_n = 0, exec_n = 0;  // forks and execs timed per operation
    std::vector<TimedOp> ops;
    Reference reference;           // the same fork in a fresh exec'd process
    std::vector<SizePoint> sizes;  // fork against the parent's size
    int size_n = 0;                // forks per size
    bool thp_offered = false;
    std::vector<std::string> sizes_skipped;

    std::optional<double> median_of(std::string_view id) const;
};

// One trial of T8: a thread created and joined against a task handed to a pool's worker.
struct T8Trial {
    Costs costs;
    PoolHandoff helping;  // the same pool, the caller allowed to run its own task: labelled, not judged
};

struct HandoffTrials {
    int caller_cpu = 0, worker_cpu = 0;
    int per_trial = 0;  // of each, per trial
    PoolWait judged = PoolWait::worker;
    Trials<T8Trial> trials;
};

// Adds every table, the metrics and the raw series to `result`.
void present(Result& result, const ProcessCosts& processes, const HandoffTrials& t8,
             const std::vector<TaskSizePoint>& sweep);

}  // namespace proclab::creation_cost
