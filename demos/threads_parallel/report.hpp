// threads_parallel's report: the sweep tables, the emulated GIL's table and timeline, the trials,
// real CPython's table, the metrics and the raw series, all rendered from what was measured.
// Nothing here measures or decides.
#pragma once

#include "threads_parallel/runs.hpp"
#include "threads_parallel/verdicts.hpp"

#include "proclab/demo.hpp"
#include "proclab/trials.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace proclab::threads_parallel {

// The jobs every thread count shares, sized on this machine.
struct Workload {
    Job compute;
    std::optional<Job> memory;  // --work compute: none
    std::size_t llc_bytes = 0;  // the last-level cache the memory job must exceed (0: unknown)
    double target_s = 0;        // about this much CPU time on one thread, each job
    std::uint64_t chunk_iterations = 0;
};

// What was measured: the sweeps (for the tables), the emulated GIL at a few counts, and the
// trials that decide.
struct Measured {
    int cpus = 0;         // allowed
    int n_at_cpus = 0;    // the thread count the trials compare (= CPUs, at least 2)
    int repetitions = 0;  // of each sweep point
    double switch_interval_ms = 0;
    std::vector<std::vector<RunResult>> sweeps;  // compute first (when asked for), then memory
    std::vector<RunResult> locked;               // the compute job under the emulated GIL
    Trials<Evidence> trials;
};

// Adds the tables, the GIL timeline, the metrics and the raw series to `result`.
void present(Result& result, const Workload& work, const Measured& m);

}  // namespace proclab::threads_parallel
