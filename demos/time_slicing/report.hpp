// time_slicing's report: the trials, steps, workers and slice-settings tables, the timeline, the
// metrics and the raw series, all rendered from the evidence of a finished sweep. Nothing here
// measures or decides.
#pragma once

#include "time_slicing/steps.hpp"
#include "time_slicing/verdicts.hpp"
#include "time_slicing/workers.hpp"

#include "proclab/demo.hpp"
#include "proclab/sched.hpp"
#include "proclab/trials.hpp"

#include <string>
#include <vector>

namespace proclab::time_slicing {

// What the sweep was and what it gave: R trials, each the steps of one sweep.
struct Sweep {
    std::vector<int> cpus;               // the CPUs the workers were allowed
    bool threads_only = false;           // --kind threads: every step ran threads
    Calibration calibration;             // the worker loop's gap threshold
    std::vector<std::string> shortened;  // steps given less work to stay under kMaxStepWallS
    Trials<std::vector<StepResult>> trials;
};

inline constexpr double kMaxStepWallS = 10;  // a step is shortened (less work each) beyond this

// The configured slice (from the environment) and the tick as observed in these steps.
KernelSliceFacts slice_facts(const DemoContext& ctx, const std::vector<StepResult>& steps);
// The jiffies clock the tick is read from, started at its first call (call it as the run starts).
const JiffiesClock& run_jiffies();

// Adds the tables, the timeline figure, the metrics and the raw series of the sweep to `result`.
void present(Result& result, const DemoContext& ctx, const Sweep& sweep);

}  // namespace proclab::time_slicing
