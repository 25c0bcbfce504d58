#include "threads_parallel/verdicts.hpp"

#include "threads_parallel/runs.hpp"

#include "proclab/render.hpp"

#include <fmt/format.h>

namespace proclab::threads_parallel {

std::string python_summary(const CPython& py) {
    return fmt::format("CPython {}{}: a pure-Python loop in {} threads kept {:.2f} CPUs busy ({:.2f}x), in {} processes {:.2f} "
                       "({:.2f}x); sha256 in {} threads {:.2f} ({:.2f}x)",
                       py.version, py.gil_enabled ? "" : " (free-threaded, GIL off)", py.n, py.threads.parallelism(),
                       speedup(py.one.wall, py.threads.wall), py.n, py.processes.parallelism(),
                       speedup(py.one.wall, py.processes.wall), py.n, py.hash_threads.parallelism(),
                       speedup(py.hash_one.wall, py.hash_threads.wall));
}

ClaimVerdict decide_t2(const Evidence& e) {
    if (e.cpus < 2)
        return {"T2", Verdict::not_measured, "one CPU: no two threads can run at the same time, in any language"};
    const std::string evidence = fmt::format(
        "C++: {} threads on {} CPUs ran at the same time {:.0f}% of the wall time and finished {:.2f}x faster than one "
        "(efficiency {:.0f}%); {}",
        e.n_at_cpus, e.cpus, 100 * e.cpp_overlap, e.cpp_speedup, 100 * efficiency(e.cpp_speedup, e.n_at_cpus), e.interference.describe());
    const std::string python = e.python.ran ? "; " + python_summary(e.python) : "; CPython not measured (" + e.python.why_not + ")";
    const bool cpus_taken = e.interference.exceeds(kInterferenceMargin);
    if (e.cpp_overlap < kOverlapParallel && cpus_taken)
        return {"T2", Verdict::not_measured,
                fmt::format("the CPUs were not free (margin {:.0f}%), and the threads never got two at once: {}", 100 * kInterferenceMargin,
                            evidence)};
    if (e.cpp_overlap < kOverlapParallel)
        return {"T2", Verdict::refuted, "the CPUs were free and C++ threads still never ran at the same time: " + evidence + python};
    if (e.cpp_speedup >= kParallelEfficiency * e.n_at_cpus) {
        if (e.mem_speedup < 0) return {"T2", Verdict::confirmed, evidence + python};
        const std::string memory = fmt::format(
            "; memory-bound: {} threads {:.2f}x (efficiency {:.0f}%, {} against {} with one thread, {:.0f}% of the wall with 2+ running)",
            e.n_at_cpus, e.mem_speedup, 100 * efficiency(e.mem_speedup, e.n_at_cpus), format_value(e.mem_bandwidth_n, "B/s"),
            format_value(e.mem_bandwidth_one, "B/s"), 100 * e.mem_overlap);
        // The second nuance: the threads run at once, but share one memory system. Only with the
        // CPUs free, and only well below the compute threshold, so noise does not decide it.
        if (!cpus_taken && efficiency(e.mem_speedup, e.n_at_cpus) < kMemoryBoundEfficiency)
            return {"T2", Verdict::nuanced,
                    fmt::format("{}{}{}: compute-bound threads run in parallel, memory-bound ones stop where the memory bandwidth "
                                "does (below {:.0f}% of N)",
                                evidence, memory, python, 100 * kMemoryBoundEfficiency)};
        return {"T2", Verdict::confirmed, evidence + memory + python};
    }
    if (cpus_taken)
        return {"T2", Verdict::not_measured,
                fmt::format("the threads ran at the same time, but other tasks took the CPUs, so the speedup says nothing about "
                            "the OS (margin {:.0f}%): {}",
                            100 * kInterferenceMargin, evidence)};
    return {"T2", Verdict::nuanced,
            fmt::format("{}{}: parallel, but the speedup stayed below {:.0f}% of N with the CPUs free (memory bandwidth, "
                        "frequency scaling or SMT siblings)",
                        evidence, python, kParallelEfficiency * 100)};
}

ClaimVerdict decide_t9(const Evidence& e) {
    if (e.cpus < 2)
        return {"T9", Verdict::not_measured, "one CPU: nothing runs at the same time, so a lock's effect cannot be told apart"};
    std::string evidence = fmt::format("emulated GIL: {} threads ran at the same time {:.1f}% of the wall time, {:.2f}x ({} hand-overs)",
                                       e.n_at_cpus, 100 * e.gil_overlap, e.gil_speedup, e.gil_switches);
    // The lock is real mutual exclusion: load cannot make two holders run at once.
    if (e.gil_overlap >= kOverlapParallel) return {"T9", Verdict::refuted, "the emulated lock did not serialise: " + evidence};
    const auto& py = e.python;
    if (!py.ran) return {"T9", Verdict::confirmed, evidence + "; real CPython not measured: " + py.why_not};
    evidence += "; " + python_summary(py);
    if (py.threads.parallelism() >= kParallelBusy)
        return {"T9", Verdict::nuanced,
                evidence + (py.gil_enabled ? ": pure-Python threads ran at the same time"
                                           : ": this free-threaded build runs Python threads in parallel")};
    if (py.hash_threads.parallelism() >= kParallelBusy)
        return {"T9", Verdict::nuanced,
                evidence + ": the GIL serialises bytecode, not everything; code that releases it (hashing, I/O, native "
                           "code) runs in parallel"};
    // Neither kind of CPython thread used a second CPU: that tells something only if one was free.
    if (py.processes.parallelism() < kParallelBusy || e.interference.exceeds(kInterferenceMargin))
        return {"T9", Verdict::not_measured,
                fmt::format("{}; whether CPython's threads can use a second CPU could not be seen: its processes kept {:.2f} CPUs "
                            "busy, {}",
                            evidence, py.processes.parallelism(), e.interference.describe())};
    if (py.threads.parallelism() <= kSerialBusy) return {"T9", Verdict::confirmed, evidence};
    return {"T9", Verdict::nuanced, evidence + ": the threads overlapped a little, more than one lock holder at a time allows"};
}

}  // namespace proclab::threads_parallel
