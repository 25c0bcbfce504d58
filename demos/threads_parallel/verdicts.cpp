#include "threads_parallel/verdicts.hpp"

#include "threads_parallel/runs.hpp"

#include <fmt/format.h>

namespace proclab::threads_parallel {

constexpr const char* kT2Test =
    "T2: parallel C++ threads confirm, serial ones refute, a busy machine or one CPU decides nothing";
constexpr const char* kT9Test =
    "T9: serialised threads confirm, a lock-releasing case or a free-threaded build makes it nuanced";

const RuleInfo kT2Rule{
    .claim = "T2",
    .evidence =
        "one compute-bound job on 1 thread and on N = CPUs threads of this process: the kernel's count of the threads' "
        "CPU time "
        "against the wall time (busy CPUs), the share of the wall time in which two or more ran (their run intervals, "
        "a picture), "
        "the speedup; the same for a memory-bound job; other load around each trial",
    .refuted_by = "C++ threads that the kernel counted at most 1.1 CPUs busy while the CPUs were free",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "the kernel counted at least 1.3 CPUs busy and the speedup reached 75% of N, the CPUs free",
         .reached_by = kT2Test},
        {.verdict = Verdict::nuanced,
         .when = "at once but slower than 75% of N with the CPUs free, or memory-bound threads below 50% of N (the "
                 "memory bandwidth)",
         .reached_by = kT2Test},
        {.verdict = Verdict::refuted,
         .when = "at most 1.1 CPUs busy by the kernel's count, the CPUs free",
         .reached_by = kT2Test},
        {.verdict = Verdict::not_measured,
         .when = "one CPU, a cgroup CPU quota below the CPU count, other load not surely below the margin, or between "
                 "1.1 and 1.3 CPUs busy",
         .reached_by = kT2Test}}};

const RuleInfo kT9Rule{
    .claim = "T9",
    .evidence =
        "real CPython (python3 on PATH): the same pure-Python loop in 1 thread, N threads and N processes, sha256 "
        "(which releases "
        "the GIL) in 1 and N threads, CPU time against wall time (busy CPUs); whether the build has the GIL enabled. "
        "The emulated "
        "GIL in C++ shows the mechanism and decides nothing",
    .refuted_by = "pure-Python threads keeping 1.3 or more CPUs busy with the GIL enabled",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "pure-Python threads kept at most 1.1 CPUs busy while processes used a second CPU, and code that "
                 "releases the GIL (sha256) did not run in parallel either",
         .reached_by = kT9Test},
        {.verdict = Verdict::nuanced,
         .when = "a free-threaded build ran them in parallel, or sha256 (releasing the GIL) ran in parallel: the GIL "
                 "serialises bytecode, not everything (CPython with the GIL, on free CPUs, every time)",
         .reached_by = kT9Test},
        {.verdict = Verdict::refuted,
         .when = "pure-Python threads on 1.3 or more CPUs with the GIL enabled",
         .reached_by =
             "T9 is refuted by a recorded CPython run with the GIL enabled and pure-Python threads on two CPUs"},
        {.verdict = Verdict::not_measured,
         .when = "no python3, one CPU, a cgroup CPU quota below the CPU count, no second CPU free (processes too "
                 "stayed on one), other load, or between the thresholds",
         .reached_by = kT9Test}}};

namespace {
// A cgroup CPU quota below the CPU count throttles the threads (and the one-thread baseline) in
// periods: how many run at once, and how fast, is then the quota's, which /proc/stat's interference
// does not see. Checked before any figure, so its sentence names the quota (recorded: a 1-CPU quota
// on 2 CPUs gave one trial "refuted" at 1.0 CPUs busy and two an implausible 2.23x).
bool quota_bounds(Rule& rule, const Evidence& e) {
    if (!e.quota_cpus || *e.quota_cpus >= e.cpus) return false;
    rule.use(number_fact("cpu_quota", *e.quota_cpus, "CPUs", "the cgroup's CPU quota (CPU time per period, in CPUs)"));
    return true;
}
}  // namespace

Decision decide_t2(const Evidence& e) {
    Rule rule(kT2Rule);
    rule.use(count_fact("cpus", e.cpus, "CPUs allowed"));
    if (e.cpus < 2)
        return rule.not_measured("{cpus} CPU: no two threads can run at the same time, in any language", "one CPU");
    if (quota_bounds(rule, e))
        return rule.not_measured(
            "a CPU quota of {cpu_quota} (cgroup) on {cpus:count CPU} throttles the threads and the one-thread run "
            "alike, "
            "so how they ran at once is the quota's, not the scheduler's",
            "CPU quota {cpu_quota} on {cpus:count CPU}");
    rule.use(count_fact("threads", e.n_at_cpus, "C++ threads compared with one"));
    Fact busy = number_fact("busy", e.cpp_busy, "CPUs",
                            "the kernel's count of the threads' CPU time over the wall time (busy CPUs)");
    busy.ceiling = Bound{double(e.n_at_cpus), "the thread count", kSpeedupTolerance};
    rule.use(busy);
    rule.use(number_fact("overlap", e.cpp_overlap, "fraction",
                         "the share of the wall time in which two or more of them ran (clock gaps)"));
    Fact s = number_fact("speedup", e.cpp_speedup, "x", "one thread's wall time over theirs");
    s.ceiling = Bound{double(e.n_at_cpus), "the thread count", kSpeedupTolerance};
    rule.use(s);
    rule.use(number_fact("efficiency", efficiency(e.cpp_speedup, e.n_at_cpus), "fraction",
                         "the speedup over the thread count"));
    rule.use(number_fact("parallel_busy", kParallelBusy, "CPUs", "at least this many busy: ran at the same time"));
    rule.use(number_fact("serial_busy", kSerialBusy, "CPUs", "at most this many busy: one at a time"));
    const std::string load = use_interference(rule, e.interference, kInterferenceMargin);
    const std::string evidence =
        "C++: {threads:count thread} on {cpus:count CPU}: the kernel counted {busy} busy, two or more ran {overlap} of "
        "the wall time, and they finished {speedup} faster than one (efficiency {efficiency}); " +
        load;
    const std::string summary = "C++: {threads:count thread} {speedup} on {cpus:count CPU}, {busy} busy";
    // Load moves every figure here: it slows the one-thread baseline (a speedup too high) or the
    // threads (too low), and it takes the CPUs they would have run on. So nothing is decided unless
    // the load was surely below the margin, its counting resolution included.
    if (!e.interference.clear_of(kInterferenceMargin))
        return rule.not_measured(
            "other load was not surely below the margin, so how the threads ran is not the OS's alone: " + evidence,
            summary + "; " + interference_summary(rule, e.interference, kInterferenceMargin));
    // A refutation stands on the kernel's count: at most one CPU's worth for all the threads.
    if (e.cpp_busy <= kSerialBusy)
        return rule.refuted(
            "the CPUs were free and C++ threads still did not run at the same time (at most {serial_busy}): " +
                evidence,
            summary);
    if (e.cpp_busy < kParallelBusy)
        return rule.not_measured(
            evidence + ": between one at a time ({serial_busy}) and parallel ({parallel_busy}), neither shown",
            summary);
    rule.use(number_fact("efficiency_threshold", kParallelEfficiency, "fraction",
                         "parallel on free CPUs reaches this share of N"));
    if (e.cpp_speedup < kParallelEfficiency * e.n_at_cpus)
        return rule.nuanced(
            evidence +
                ": parallel, but the speedup stayed below {efficiency_threshold} of N with the CPUs free (memory "
                "or frequency limits, or the machine's other work)",
            summary);
    // The second nuance: the threads run at once, but share one memory system. Only well below the
    // compute threshold, so noise does not decide it.
    if (e.mem_speedup >= 0 && efficiency(e.mem_speedup, e.n_at_cpus) < kMemoryBoundEfficiency) {
        rule.use(
            number_fact("memory_speedup", e.mem_speedup, "x", "the memory-bound job's speedup on the same threads"));
        rule.use(
            number_fact("memory_efficiency", efficiency(e.mem_speedup, e.n_at_cpus), "fraction", "its efficiency"));
        rule.use(
            number_fact("memory_bandwidth_one", e.mem_bandwidth_one, "B/s", "bytes read per second by one thread"));
        rule.use(number_fact("memory_bandwidth_n", e.mem_bandwidth_n, "B/s", "by all of them"));
        rule.use(number_fact("memory_overlap", e.mem_overlap, "fraction", "the share of its wall with 2+ running"));
        rule.use(number_fact("memory_threshold", kMemoryBoundEfficiency, "fraction",
                             "memory-bound efficiency below this is the nuance"));
        return rule.nuanced(
            evidence +
                "; memory-bound: {threads:count thread} {memory_speedup} (efficiency {memory_efficiency}, "
                "{memory_bandwidth_n} against {memory_bandwidth_one} with one thread, two or more "
                "running {memory_overlap} of the "
                "wall): compute-bound threads run in parallel, memory-bound ones stop where "
                "the memory bandwidth does (below {memory_threshold} of N)",
            summary + "; memory-bound {memory_speedup}");
    }
    return rule.confirmed(evidence, summary);
}

Decision decide_t9(const Evidence& e) {
    Rule rule(kT9Rule);
    rule.use(count_fact("cpus", e.cpus, "CPUs allowed"));
    if (e.cpus < 2)
        return rule.not_measured("{cpus} CPU: nothing runs at the same time, so a lock's effect cannot be told apart",
                                 "one CPU");
    if (quota_bounds(rule, e))
        return rule.not_measured(
            "a CPU quota of {cpu_quota} (cgroup) on {cpus:count CPU} throttles CPython's threads and processes alike, "
            "so "
            "whether its threads could use a second CPU cannot be seen",
            "CPU quota {cpu_quota} on {cpus:count CPU}");
    const auto& py = e.python;
    if (!py.ran) {
        rule.use(text_fact("python_why_not", py.why_not, "why real CPython was not measured"));
        return rule.not_measured(
            "real CPython was not measured ({python_why_not}); the emulated GIL shows the mechanism, not Python",
            "CPython not measured");
    }
    rule.use(text_fact(
        "python", fmt::format("CPython {}{}", py.version, py.free_threaded_build ? " (a free-threaded build)" : ""),
        "the interpreter"));
    rule.use(flag_fact("gil_enabled", py.gil_enabled, "the GIL was enabled at run time (sys._is_gil_enabled)"));
    rule.use(count_fact("workers", py.n, "threads or processes in each group"));
    rule.use(
        number_fact("threads_busy", py.threads.parallelism(), "CPUs", "pure-Python threads: CPU time over wall time"));
    rule.use(number_fact("processes_busy", py.processes.parallelism(), "CPUs", "the same loop in processes"));
    rule.use(
        number_fact("hash_busy", py.hash_threads.parallelism(), "CPUs", "sha256 in threads (it releases the GIL)"));
    rule.use(number_fact("parallel_threshold", kParallelBusy, "CPUs", "at least this many busy: ran at the same time"));
    // Busy CPUs (the kernel's count of CPU time over the wall) decide: a speedup against the
    // one-thread run would carry that run's own luck, so it is not quoted here (the table shows it).
    const std::string evidence =
        "{python}, GIL enabled: {gil_enabled}: a pure-Python loop in {workers:count thread} kept {threads_busy} busy, "
        "in {workers:count process/processes} {processes_busy}; sha256 in {workers:count thread} {hash_busy}";
    const std::string summary =
        "{python}: threads {threads_busy} busy, processes {processes_busy}, sha256 threads {hash_busy}";
    if (py.threads.parallelism() >= kParallelBusy) {
        if (py.gil_enabled)
            return rule.refuted(evidence +
                                    ": with the GIL enabled, pure-Python threads ran at the same time (at least "
                                    "{parallel_threshold})",
                                summary);
        return rule.nuanced(evidence + ": this free-threaded build, its GIL off, runs Python threads in parallel",
                            summary);
    }
    if (py.hash_threads.parallelism() >= kParallelBusy)
        return rule.nuanced(
            evidence +
                ": the GIL serialises bytecode, not everything; code that releases it (hashing, I/O, native "
                "code) runs in parallel",
            summary);
    // Neither kind of CPython thread used a second CPU: that tells something only if one was free.
    const std::string load = use_interference(rule, e.interference, kInterferenceMargin);
    if (py.processes.parallelism() < kParallelBusy || !e.interference.clear_of(kInterferenceMargin))
        return rule.not_measured(
            evidence +
                "; whether CPython's threads can use a second CPU could not be seen: its processes kept "
                "{processes_busy} busy; " +
                load,
            summary + (e.interference.clear_of(kInterferenceMargin)
                           ? std::string("; processes {processes_busy}")
                           : "; " + interference_summary(rule, e.interference, kInterferenceMargin)));
    rule.use(number_fact("serial_threshold", kSerialBusy, "CPUs", "at most this many busy: one at a time"));
    if (py.threads.parallelism() <= kSerialBusy)
        return rule.confirmed(
            evidence + ": the threads took turns (at most {serial_threshold}) while the processes used a second CPU",
            summary);
    return rule.not_measured(
        evidence + ": between one at a time ({serial_threshold}) and parallel ({parallel_threshold}), neither shown",
        summary);
}

}  // namespace proclab::threads_parallel
