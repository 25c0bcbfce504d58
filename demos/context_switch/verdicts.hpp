// context_switch's verdict rules: pure functions of the measurements, unit-tested in
// tests/unit/test_context_switch.cpp.
#pragma once

#include "context_switch/pingpong.hpp"

#include "proclab/result.hpp"

#include <string>
#include <vector>

namespace proclab::context_switch {

const Measurement* find(const std::vector<Measurement>& ms, Kind k, Channel ch, bool same_cpu);

// P2 from two processes on one CPU passing a pipe token: confirmed when the kernel switched at
// (nearly) every hop, nuanced below kSwitchesPerHop, not-measured when the counts are unknown.
ClaimVerdict decide_p2(const std::vector<Measurement>& ms);
// T1 the same between two threads, with the thread/process ratio.
ClaimVerdict decide_t1(const std::vector<Measurement>& ms);

// Repetition r of every measurement, as one trial: its median and its own switch counts.
std::vector<Measurement> trial_view(const std::vector<Measurement>& ms, std::size_t r);

std::string us(double ns);

}  // namespace proclab::context_switch
