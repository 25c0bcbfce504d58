// time_slicing's terminal timeline: which worker ran on which CPU, and where each worker ran, over a
// short window of one step, from the workers' own run intervals.
#pragma once

#include "time_slicing/steps.hpp"

#include "proclab/result.hpp"

#include <vector>

namespace proclab::time_slicing {

// The letter that names worker i in the timeline and the workers table.
char worker_letter(std::size_t i);

Figure timeline(const StepResult& s, const std::vector<int>& cpus);

}  // namespace proclab::time_slicing
