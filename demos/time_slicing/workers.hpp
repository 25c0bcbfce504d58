// time_slicing's workers: the shared memory they report into, the loop each runs, and the
// calibration of that loop. A worker does a calibrated chunk of work, reads CLOCK_MONOTONIC and
// repeats; a step between two readings above the calibrated threshold is time off the CPU. The runs
// between gaps go into shared memory (Boost.Interprocess anonymous memory, so forked workers write
// where the parent reads), with the kernel's own counts read at the worker's start and end.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/sched.hpp"
#include "proclab/stats.hpp"

#include <boost/interprocess/mapped_region.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <sched.h>

namespace proclab::time_slicing {

// Shared memory: a header, one record per worker, a fixed array of run intervals per worker.

struct Interval {
    Nanos start;
    Nanos end;
    std::int32_t cpu;
    std::int32_t unused;
};

struct WorkerRecord {
    std::atomic<int> state;  // 0 created, 1 ready, 2 done
    std::int32_t pid, tid;
    std::int32_t first_cpu;
    Nanos first_reading, done_at;
    Nanos first_move_at;  // first reading on another CPU than the first; 0: never moved
    Nanos run_ns;         // from the gaps
    std::uint64_t gaps, loops;
    std::uint32_t intervals, dropped;
    TaskSchedStats kernel_start, kernel_end;
};

struct Header {
    std::atomic<int> go;
    Nanos go_at;
};

class SharedArea {
public:
    SharedArea(int workers, std::size_t capacity);
    Header& header() const { return *static_cast<Header*>(region_.get_address()); }
    WorkerRecord& record(int i) const {
        return reinterpret_cast<WorkerRecord*>(static_cast<char*>(region_.get_address()) + sizeof(Header))[i];
    }
    Interval* intervals(int i) const {
        auto* base = reinterpret_cast<Interval*>(static_cast<char*>(region_.get_address()) + sizeof(Header) +
                                                 sizeof(WorkerRecord) * static_cast<std::size_t>(workers_));
        return base + capacity_ * static_cast<std::size_t>(i);
    }
    std::size_t capacity() const { return capacity_; }

private:
    int workers_;
    std::size_t capacity_;
    boost::interprocess::mapped_region region_;
};

// ---------------------------------------------------------------------------------------------
// The worker: a calibrated chunk of work, then a clock reading; gaps mark the time off the CPU.

// The worker: a calibrated chunk of work, then a clock reading; gaps mark the time off the CPU.

struct WorkParams {
    Nanos work_ns;       // CPU time to accumulate
    Nanos threshold_ns;  // a step above this is a gap
    std::uint64_t chunk_iterations;
    int pin_cpu;               // -1: none
    int start_cpu;             // -1: none; else start pinned there and be allowed every CPU at the go
    const cpu_set_t* allowed;  // the mask restored at the go (with start_cpu)
};

// Runs one worker to the end of its work: waits for the go, then records its slices in `area`.
void run_worker(const SharedArea& area, int index, const WorkParams& p);

// ---------------------------------------------------------------------------------------------
// Calibration: the chunk size, the clock's share of the loop, the gap threshold.

// Calibration: the chunk size, the clock's share of the loop, the gap threshold.

struct Calibration {
    std::uint64_t chunk_iterations = 0;
    double chunk_ns = 0;
    double probe_effect = 0;  // clock read / (chunk + clock read)
    Nanos threshold_ns = 0;
    Summary undisturbed_step;
};

Calibration calibrate(const ClockCalibration& clock);

}  // namespace proclab::time_slicing
