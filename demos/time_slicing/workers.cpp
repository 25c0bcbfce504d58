#include "time_slicing/workers.hpp"

#include "proclab/affinity.hpp"
#include "proclab/work.hpp"

#include <boost/interprocess/anonymous_shared_memory.hpp>

#include <algorithm>
#include <vector>

#include <unistd.h>

namespace proclab::time_slicing {

namespace bip = boost::interprocess;

SharedArea::SharedArea(int workers, std::size_t capacity)
    : workers_(workers),
      capacity_(capacity),
      region_(bip::anonymous_shared_memory(sizeof(Header) + sizeof(WorkerRecord) * static_cast<std::size_t>(workers) +
                                           sizeof(Interval) * capacity * static_cast<std::size_t>(workers))) {
    new (region_.get_address()) Header{};
    for (int i = 0; i < workers; ++i) new (&record(i)) WorkerRecord{};
}

void run_worker(const SharedArea& area, int index, const WorkParams& p) {
    WorkerRecord& rec = area.record(index);
    if (p.pin_cpu >= 0) pin_to_cpu(p.pin_cpu);
    if (p.start_cpu >= 0) pin_to_cpu(p.start_cpu);
    rec.pid = ::getpid();
    rec.tid = ::gettid();
    rec.state.store(1, std::memory_order_release);
    while (area.header().go.load(std::memory_order_acquire) == 0) ::sched_yield();
    // Allowed every CPU again, but still on the start CPU: any move from here is the scheduler's.
    if (p.start_cpu >= 0 && p.allowed) ::sched_setaffinity(0, sizeof(cpu_set_t), p.allowed);

    rec.kernel_start = read_task_stats("/proc/thread-self");
    Interval* out = area.intervals(index);
    const std::size_t capacity = area.capacity();
    std::uint32_t stored = 0, dropped = 0;
    auto store = [&](GapDetector::Interval iv, int cpu) {
        if (stored < capacity) out[stored++] = Interval{iv.start, iv.end, cpu, 0};
        else ++dropped;
    };

    Nanos t = now_ns();
    rec.first_reading = t;
    GapDetector detector(p.threshold_ns, t);
    int cpu = ::sched_getcpu();
    rec.first_cpu = cpu;
    std::uint64_t loops = 0, sink = 0;
    while (detector.run_ns() < p.work_ns) {
        sink += busy_work(p.chunk_iterations, loops);
        t = now_ns();
        ++loops;
        // sched_getcpu reads the CPU from rseq or the vDSO: a nanosecond or two, so a move
        // without a visible gap (active balancing) is caught too.
        const int now_cpu = ::sched_getcpu();
        if (detector.step(t)) {
            store(detector.closed(), cpu);
        } else if (now_cpu != cpu) {
            detector.split();
            store(detector.closed(), cpu);
        }
        if (now_cpu != cpu) {
            if (rec.first_move_at == 0) rec.first_move_at = t;
            cpu = now_cpu;
        }
    }
    store(detector.current(), cpu);
    rec.kernel_end = read_task_stats("/proc/thread-self");
    rec.done_at = t;
    rec.run_ns = detector.run_ns();
    rec.gaps = detector.gaps();
    rec.loops = loops + (sink & 0);  // sink keeps the work observable
    rec.intervals = stored;
    rec.dropped = dropped;
    rec.state.store(2, std::memory_order_release);
}

Calibration calibrate(const ClockCalibration& clock) {
    Calibration c;
    // Size the chunk so a loop step is ~100x the clock read: a probe effect near 1%.
    const double target_ns = std::max(2000.0, 100 * clock.read_overhead_ns);
    std::uint64_t iterations = 1000;
    for (int round = 0; round < 6; ++round) {
        const Nanos t0 = now_ns();
        for (int i = 0; i < 50; ++i) (void)busy_work(iterations, static_cast<std::uint64_t>(i));
        const double per_chunk = static_cast<double>(now_ns() - t0) / 50.0;
        if (per_chunk > 0)
            iterations = std::max<std::uint64_t>(
                10, static_cast<std::uint64_t>(static_cast<double>(iterations) * target_ns / per_chunk));
    }
    c.chunk_iterations = iterations;

    // The undisturbed loop: 20 ms of steps in this process, alone.
    std::vector<double> steps;
    steps.reserve(20000);
    Nanos last = now_ns();
    const Nanos end = last + 20'000'000;
    while (last < end) {
        (void)busy_work(iterations, static_cast<std::uint64_t>(last));
        const Nanos t = now_ns();
        steps.push_back(static_cast<double>(t - last));
        last = t;
    }
    c.undisturbed_step = summarize(steps);
    c.chunk_ns = std::max(1.0, c.undisturbed_step.median - clock.read_overhead_ns);
    c.probe_effect = clock.read_overhead_ns / (c.chunk_ns + clock.read_overhead_ns);
    c.threshold_ns = gap_threshold(steps);
    return c;
}

}  // namespace proclab::time_slicing
