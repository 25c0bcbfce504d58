// Real CPython, where python3 is installed: started through Boost.Process v2 (proclab/spawn.hpp),
// the same kind of pure-Python loop in 1 thread, N threads and N processes, and a case that
// releases the GIL (sha256 of a large buffer) in 1 and N threads; the version, and whether the
// build is free-threaded (sys._is_gil_enabled, Py_GIL_DISABLED).
#pragma once

#include <string>

namespace proclab::threads_parallel {

// A run's wall time and the CPU time used meanwhile: cpu / wall = how many CPUs were busy on
// average, which tells parallel from serial even on a loaded machine, where speedups shrink.
struct Timing {
    double wall = 0, cpu = 0;
    double parallelism() const { return wall > 0 ? cpu / wall : 0; }
};

struct CPython {
    bool ran = false;
    std::string why_not;
    std::string version, implementation;
    bool free_threaded_build = false, gil_enabled = true;
    Timing one, threads, processes, hash_one, hash_threads;
    int n = 0;
};

// The work each CPython job does: its loop's steps, hash rounds per worker, and the MiB each hashes.
struct CPythonWork {
    int loop_steps = 1'500'000;  // --quick: 400,000
    int hashes_per_worker = 4;   // --quick: 2
    int hash_mib = 32;           // --quick: 8
};
inline constexpr CPythonWork kQuickCPythonWork{.loop_steps = 400'000, .hashes_per_worker = 2, .hash_mib = 8};

// n workers, each job sized by `work`.
CPython run_cpython(int n, const CPythonWork& work);

}  // namespace proclab::threads_parallel
