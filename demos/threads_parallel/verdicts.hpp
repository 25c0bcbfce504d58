// threads_parallel's verdict rules: pure functions of one trial's evidence, unit-tested in
// tests/unit/test_threads_parallel.cpp.
#pragma once

#include "threads_parallel/cpython.hpp"

#include "proclab/clock.hpp"
#include "proclab/interference.hpp"
#include "proclab/evidence.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace proclab::threads_parallel {

// Thresholds of the verdicts, stated once.
// Whether threads ran at the same time is measured directly: each thread's run intervals (from
// gaps in its clock readings) are overlaid, and the share of the wall time in which two or more
// ran at once is the overlap. It holds on a loaded machine, where speedups shrink.
inline constexpr double kOverlapParallel = 0.02;     // C++/emulated: at least 2% of the wall with 2+ running
inline constexpr double kInterferenceMargin = 0.15;  // other tasks + steal above 15% of the CPUs: CPUs were not free
// For CPython only CPU time / wall time ("busy CPUs") is known; processes are the control that
// shows whether a second CPU was free at all.
inline constexpr double kSerialBusy = 1.1;           // at most 1.1 CPUs busy on average: one at a time
inline constexpr double kParallelBusy = 1.3;         // at least 1.3 CPUs busy: ran at the same time
inline constexpr double kParallelEfficiency = 0.75;  // speedup >= 75% of N: parallel on free CPUs
inline constexpr double kSpeedupTolerance = 0.10;    // a speedup above N by more than this is implausible (the ceiling)
// Memory-bound threads below 50% of N (compute-bound ones parallel): the memory bandwidth is the limit.
inline constexpr double kMemoryBoundEfficiency = 0.5;

struct Evidence {
    int cpus = 0;
    int n_at_cpus = 0;                        // the thread count compared (= CPUs, at least 2)
    Interference interference;                // around the trial
    std::optional<double> quota_cpus;         // the cgroup's CPU quota (Environment::cpu_quota_cpus)
    double cpp_speedup = 0, cpp_overlap = 0;  // C++ threads at n_at_cpus
    double cpp_busy = 0;                      // their CPU time (the kernel's count) over the wall time
    double gil_speedup = 0, gil_overlap = 0;  // emulated GIL at n_at_cpus
    std::uint64_t gil_switches = 0;
    // The memory-bound job at n_at_cpus (mem_speedup < 0: not run, --work compute).
    double mem_speedup = -1, mem_overlap = 0, mem_bandwidth_one = 0, mem_bandwidth_n = 0;
    CPython python;
};

extern const RuleInfo kT2Rule, kT9Rule;

// T2: C++ threads running at once on free CPUs, by the kernel's count of their CPU time; refuted
// only when the CPUs were surely free and the kernel counted at most one CPU's worth; load decides
// nothing in either direction; the memory-bound job names the nuance.
Decision decide_t2(const Evidence& e);
// T9: real CPython alone decides; the emulated GIL only shows the mechanism. Pure-Python threads
// on two or more busy CPUs with the GIL enabled refute; a free-threaded build or code that
// releases the GIL are the nuances; without python3 (or a second free CPU), not-measured.
Decision decide_t9(const Evidence& e);

}  // namespace proclab::threads_parallel
