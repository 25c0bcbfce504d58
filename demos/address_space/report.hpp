// address_space's report: tables, metrics and raw series from what was measured; nothing is
// measured or printed here.
#pragma once

#include "address_space/experiments.hpp"

#include "proclab/demo.hpp"

#include <vector>

namespace proclab::address_space {

struct Measured {
    int cpus = 1;
    Nanos fault_duration_ns = 0;
    int unmap_ops = 0;
    std::vector<FaultPoint> faults;
    std::vector<UnmapPoint> unmaps;
    std::vector<Floor> floors;
};

void present(Result& result, const DemoContext& ctx, const Measured& m);

}  // namespace proclab::address_space
