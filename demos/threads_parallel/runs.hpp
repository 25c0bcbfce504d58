// threads_parallel's experiment: one fixed job cut into chunks of ~20 µs or less, split evenly
// across N threads, each thread noting from its clock readings when it ran (a gap longer than
// kGapThreshold is time off the CPU), so what ran at the same time is measured, not inferred.
//
// Two kinds of job: compute-bound (a multiply-add chain, proclab::busy_work: no memory traffic)
// and memory-bound (reading every cache line of a buffer larger than the last-level cache; each
// thread starts at its own offset and streams the whole buffer, so nothing it reads is still
// cached when it comes back: the speedup stops where the memory bandwidth does).
#pragma once

#include "proclab/clock.hpp"
#include "proclab/handles.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace proclab::threads_parallel {

inline constexpr Nanos kGapThreshold = 200'000;       // 10x a work chunk: a longer step is time off the CPU
inline constexpr std::size_t kSliceBytes = 64 << 10;  // a memory-bound chunk: one 64 KiB slice

double thread_cpu_ns();
// speedup = T(1) / T(N); efficiency = speedup / N.
double speedup(double wall_one, double wall_n);
double efficiency(double speedup_value, int n);

struct RunInterval {
    int thread;
    Nanos start, end;
};

// Time during which two or more of the intervals overlap (a sweep over their ends).
Nanos overlap_ns(const std::vector<RunInterval>& intervals);

// The emulated GIL, after CPython's Python/ceval_gil.c.
class EmulatedGil {
public:
    explicit EmulatedGil(std::chrono::microseconds interval) : interval_(interval) {}

    // Waits for the lock. A waiter that sees no hand-over within one interval asks the holder
    // to drop it.
    void take();
    void release();
    // The eval breaker: between chunks of work. Returns true when the lock changed hands.
    bool check_drop_request();
    std::uint64_t switches() const;

private:
    std::chrono::microseconds interval_;
    mutable std::mutex mutex_;
    std::condition_variable released_, taken_;
    bool locked_ = false;
    std::uint64_t switches_ = 0;
    std::atomic<bool> drop_request_{false};
};

enum class WorkKind { compute, memory };
const char* name(WorkKind k);

// One job: what a chunk is, and how many there are in all.
class Job {
public:
    // Compute-bound: chunks of `chunk_iterations` multiply-adds.
    static Job compute(std::uint64_t total_chunks, std::uint64_t chunk_iterations);
    // Memory-bound: a buffer of `buffer_bytes` (a multiple of kSliceBytes), every page touched.
    static Job memory(std::uint64_t total_chunks, std::size_t buffer_bytes);

    WorkKind kind() const { return kind_; }
    std::uint64_t total_chunks() const { return total_chunks_; }
    std::size_t buffer_bytes() const { return buffer_.size(); }
    std::uint64_t bytes_per_chunk() const { return kind_ == WorkKind::memory ? kSliceBytes : 0; }
    void set_total_chunks(std::uint64_t total_chunks) { total_chunks_ = total_chunks; }

    // Chunk number `c` of thread `thread` of `n`; x carries a value through so nothing is removed.
    std::uint64_t run_chunk(int thread, int n, std::uint64_t c, std::uint64_t x) const;

private:
    WorkKind kind_ = WorkKind::compute;
    std::uint64_t total_chunks_ = 0;
    std::uint64_t chunk_iterations_ = 0;
    Mapping buffer_;
};

struct RunResult {
    int n = 0;
    WorkKind kind = WorkKind::compute;
    double wall_ns = 0;
    std::uint64_t bytes = 0;  // memory-bound: bytes read in all
    std::vector<double> thread_cpu_ns;
    std::uint64_t gil_switches = 0;
    std::vector<RunInterval> intervals;  // when each thread ran, from its clock gaps
    Nanos start = 0;
    double overlap() const { return wall_ns > 0 ? double(overlap_ns(intervals)) / wall_ns : 0; }
    // CPU time of all threads / wall time: how many CPUs were busy on average.
    double busy_cpus() const;
    double bytes_per_s() const { return wall_ns > 0 ? double(bytes) / (wall_ns / 1e9) : 0; }
};

// Runs the job on n threads released together; with a GIL, each holds it to run.
RunResult run_threads(int n, const Job& job, EmulatedGil* gil);

// The sweep's thread counts by default: every count from 1 to 2x the CPUs (at least 2) on up to 8
// CPUs; beyond, every count to 8, then steps of about 1.5x, with the CPUs and 2x the CPUs always
// in: 20 counts on 256 CPUs instead of 512, so the sweep's time and its table stay bounded.
std::vector<int> default_thread_counts(int cpus);

}  // namespace proclab::threads_parallel
