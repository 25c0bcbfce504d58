// time_slicing: claims P2, P4 and T1 of ../shared/seed/claims.md.
//
//   P2  Processes share the cores and compete for them; the OS gives each a time slice and
//       decides by itself which runs next.
//   P4  Even with many cores not everything can run in parallel, so time slicing is used.
//   T1  A thread is a sequence of instructions that the OS scheduler manages independently.
//
// Method: K CPU-bound workers (real processes by default, threads with --threads) each need the
// same fixed amount of CPU time (--duration). A worker does a short calibrated chunk of work, reads
// CLOCK_MONOTONIC, and repeats; a step between two readings larger than a threshold calibrated
// from the undisturbed loop means the worker was off the CPU in between. Between gaps lie the
// slices it actually got; each is stored with its CPU (sched_getcpu) in shared memory
// (Boost.Interprocess anonymous memory, so forked workers write where the parent reads). Workers
// print nothing. Beside this the kernel's own view of every task: /proc/thread-self/schedstat
// (run time, wait time, slices), voluntary and involuntary context switches, se.nr_migrations,
// read by each worker at its start and end; and /proc/interrupts for the tick as observed.
// Default sweep: K = 1, CPUs, 2x CPUs, 4x CPUs of the affinity mask (processes), then 2x CPUs
// threads for T1, which all start on one CPU and are then allowed every CPU: whether and when the
// scheduler spreads them is its own decision, measured (sched_getcpu at every loop step).
//
// Verdicts come from R independent trials of the whole sweep (--trials, default 5, --quick 3),
// each decided on its own, then combined (decide_from_trials). Each names what would refute its
// claim and tests exactly that: P4 is refuted only if, from the run intervals, more workers ran at
// some instant than there are CPUs; P2 only if over-subscribed workers ran one after another
// without being preempted; T1 only if threads did not have their own kernel identity and counts.
// What else ran on the CPUs meanwhile (other tasks, steal) is measured around every trial; where
// it is above a claim's margin, the share-based parts of the verdict are not-measured.
//
// Caveats: in a virtual machine the host can deschedule a whole virtual CPU, which shows up as a
// gap the guest kernel did not cause (steal time). Other load on the machine takes its share.
// cgroup CPU quotas cap shares below what the CPU count predicts. Autogroup puts each session in
// its own group, so other sessions' work does not dilute these workers' shares among themselves.
// The EEVDF base slice is configured in debugfs (root and a mounted debugfs to read it); without
// high-resolution ticks a slice ends at a timer tick, so the tick bounds what is observed.

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/work.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sched.hpp"
#include "proclab/stats.hpp"

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

namespace proclab::time_slicing {

namespace bip = boost::interprocess;

// ---------------------------------------------------------------------------------------------
// Options of this demo (declared with their ranges in add_options).

struct Options {
    int workers = 0;        // 0: the default sweep
    bool threads = false;
    int pin = -1;           // -1: no pinning
    double duration_s = 0;  // CPU time each worker needs; 0: the default
};
Options g_options;

void add_options(CLI::App& app) {
    app.add_option("--workers", g_options.workers, "Run one step with K workers instead of the sweep")
        ->check(CLI::Range(1, 1024))
        ->type_name("K");
    app.add_flag("--threads", g_options.threads, "Workers are threads of this process instead of processes");
    app.add_option("--pin", g_options.pin, "Pin every worker to this one CPU")->check(CLI::Range(0, CPU_SETSIZE - 1))->type_name("CPU");
    app.add_option("--duration", g_options.duration_s, "CPU time each worker needs, in seconds (default 0.3, --quick 0.05)")
        ->check(CLI::Range(0.01, 60.0))
        ->type_name("SECONDS");
}

// Thresholds of the verdicts, stated once.
constexpr double kShareTolerance = 0.20;     // observed mean share within 20% of min(1, CPUs/K)
constexpr double kFairnessThreshold = 0.90;  // Jain's index over the workers' shares
constexpr double kSliceRatioLow = 0.5;       // observed / configured base slice outside [0.5, 2]:
constexpr double kSliceRatioHigh = 2.0;      //   the slice is not what is configured
constexpr double kMaxStepWallS = 10;         // a step is shortened (less work each) beyond this
constexpr double kBusyCpus = 0.80;           // P4: at K >= CPUs the CPUs were busy >= 80% of the time
constexpr double kRanAlone = 0.80;           // P4: at K <= CPUs every worker got >= 80% of a CPU
constexpr double kOvercommitted = 0.05;      // P4 refuted: more than CPUs running for > 5% of a step
constexpr double kUnfair = 0.80;             // below this Jain's index is named as run-queue imbalance (not a verdict)
constexpr double kInterferenceMargin = 0.15; // other tasks + steal above 15% of the CPUs: shares not judged

// ---------------------------------------------------------------------------------------------
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
    Nanos first_move_at;     // first reading on another CPU than the first; 0: never moved
    Nanos run_ns;  // from the gaps
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
    SharedArea(int workers, std::size_t capacity)
        : workers_(workers),
          capacity_(capacity),
          region_(bip::anonymous_shared_memory(sizeof(Header) + sizeof(WorkerRecord) * static_cast<std::size_t>(workers) +
                                               sizeof(Interval) * capacity * static_cast<std::size_t>(workers))) {
        new (region_.get_address()) Header{};
        for (int i = 0; i < workers; ++i) new (&record(i)) WorkerRecord{};
    }
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
    bip::mapped_region region_;
};

// ---------------------------------------------------------------------------------------------
// The worker: a calibrated chunk of work, then a clock reading; gaps mark the time off the CPU.

struct WorkParams {
    Nanos work_ns;             // CPU time to accumulate
    Nanos threshold_ns;        // a step above this is a gap
    std::uint64_t chunk_iterations;
    int pin_cpu;               // -1: none
    int start_cpu;             // -1: none; else start pinned there and be allowed every CPU at the go
    const cpu_set_t* allowed;  // the mask restored at the go (with start_cpu)
};

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

// ---------------------------------------------------------------------------------------------
// Calibration: the chunk size, the clock's share of the loop, the gap threshold.

struct Calibration {
    std::uint64_t chunk_iterations = 0;
    double chunk_ns = 0;
    double probe_effect = 0;  // clock read / (chunk + clock read)
    Nanos threshold_ns = 0;
    Summary undisturbed_step;
};

Calibration calibrate(const ClockCalibration& clock) {
    Calibration c;
    // Size the chunk so a loop step is ~100x the clock read: a probe effect near 1%.
    const double target_ns = std::max(2000.0, 100 * clock.read_overhead_ns);
    std::uint64_t iterations = 1000;
    for (int round = 0; round < 6; ++round) {
        const Nanos t0 = now_ns();
        for (int i = 0; i < 50; ++i) (void)busy_work(iterations, static_cast<std::uint64_t>(i));
        const double per_chunk = static_cast<double>(now_ns() - t0) / 50.0;
        if (per_chunk > 0) iterations = std::max<std::uint64_t>(10, static_cast<std::uint64_t>(
                                                                    static_cast<double>(iterations) * target_ns / per_chunk));
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

// ---------------------------------------------------------------------------------------------
// One step: K workers, all started behind a barrier, each needing the same CPU time.

struct WorkerResult {
    int pid = 0, tid = 0;
    Nanos run_ns = 0, wall_ns = 0;
    double share = 0;          // run time (gaps) / its wall time since the start
    double kernel_share = 0;   // schedstat run time / the same wall time
    std::uint64_t gaps = 0;
    std::vector<Interval> intervals;
    std::uint32_t dropped = 0;
    std::int64_t run_kernel_ns = -1, wait_kernel_ns = -1, slices_kernel = -1;
    std::int64_t voluntary = -1, involuntary = -1, migrations = -1;
    std::set<int> cpus;
    int first_cpu = -1;
    std::optional<Nanos> first_move_ns;  // since the go
};

struct StepResult {
    int k = 0;
    bool threads = false;
    int cpus = 0;  // CPUs the workers may use
    Nanos work_ns = 0;
    Nanos go_at = 0;
    Nanos wall_ns = 0;
    std::vector<WorkerResult> workers;
    std::vector<double> slices_ns;        // run intervals between two gaps (partial first/last excluded)
    std::vector<double> kernel_slice_ns;  // per worker: schedstat run time / slices
    double mean_share = 0, min_share = 0, max_share = 0, jain = 1;
    double expected_share = 1, expected_wall_ns = 0;
    double involuntary_per_s = 0;
    std::int64_t migrations = 0;
    std::optional<double> ticks_per_busy_cpu_s;
    bool started_on_one_cpu = false;
    // From the run intervals of all workers together:
    int max_running = 0;            // most workers running at one instant
    Nanos overcommitted_ns = 0;     // time during which more workers ran than there are CPUs
    double busy_cpus_fraction = 0;  // CPU time delivered / capacity of min(K, CPUs) CPUs until the first finished
    std::optional<Nanos> first_move_ns;  // earliest move of any worker to another CPU, since the go
    Nanos longest_run_ns = 0;       // longest run without a gap of any worker (a worker alone on a CPU)
};

// How many ran at once: the most at one instant, and how long more than `cpus` ran (a sweep over
// the intervals' ends; touching intervals do not overlap).
struct Concurrency {
    int max_running = 0;
    Nanos above_ns = 0;
};

Concurrency concurrency(const std::vector<WorkerResult>& workers, int cpus) {
    std::vector<std::pair<Nanos, int>> events;
    for (const auto& w : workers)
        for (const auto& iv : w.intervals) {
            events.emplace_back(iv.start, +1);
            events.emplace_back(iv.end, -1);
        }
    std::sort(events.begin(), events.end());
    Concurrency c;
    int running = 0;
    Nanos since = 0;
    for (const auto& [t, delta] : events) {
        if (running > cpus) c.above_ns += t - since;
        running += delta;
        c.max_running = std::max(c.max_running, running);
        since = t;
    }
    return c;
}

// CPU time delivered to the workers while every one of them still had work (until the first
// finished), over the capacity of min(K, CPUs) CPUs in that time: 1 when no CPU idled while
// work waited. After the first finish, per-CPU run queues can leave a CPU idle until the load
// balancer moves a worker: that is measured apart (first_move_ns, longest_run_ns).
double busy_cpus_fraction(const std::vector<WorkerResult>& workers, int cpus, Nanos go_at) {
    if (workers.empty() || cpus <= 0) return 0;
    std::vector<Nanos> finishes;
    for (const auto& w : workers) finishes.push_back(w.wall_ns);
    std::sort(finishes.begin(), finishes.end());
    const int k = static_cast<int>(workers.size());
    const Nanos end = finishes.front();
    if (end <= 0) return 0;
    double run = 0;
    for (const auto& w : workers)
        for (const auto& iv : w.intervals) {
            const Nanos a = std::max<Nanos>(iv.start - go_at, 0), b = std::min<Nanos>(iv.end - go_at, end);
            if (b > a) run += double(b - a);
        }
    return run / (double(std::min(k, cpus)) * double(end));
}

std::optional<std::vector<std::int64_t>> timer_interrupts() {
    auto text = read_small_file("/proc/interrupts");
    if (!text) return std::nullopt;
    auto v = parse_timer_interrupts(*text);
    if (v.empty()) return std::nullopt;
    return v;
}

// The figures of a step that come from all workers' run intervals together.
void derive_from_intervals(StepResult& step) {
    const auto running = concurrency(step.workers, step.cpus);
    step.max_running = running.max_running;
    step.overcommitted_ns = running.above_ns;
    step.busy_cpus_fraction = busy_cpus_fraction(step.workers, step.cpus, step.go_at);
    step.first_move_ns.reset();
    step.longest_run_ns = 0;
    for (const auto& w : step.workers) {
        if (w.first_move_ns && (!step.first_move_ns || *w.first_move_ns < *step.first_move_ns)) step.first_move_ns = w.first_move_ns;
        for (const auto& iv : w.intervals) step.longest_run_ns = std::max(step.longest_run_ns, iv.end - iv.start);
    }
}

StepResult run_step(int k, bool threads, const std::vector<int>& cpus, WorkParams params) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    for (int c : cpus) CPU_SET(c, &allowed);
    params.allowed = &allowed;
    const auto estimate_ns = static_cast<double>(params.work_ns) * std::max(1.0, double(k) / double(cpus.size()));
    // Room for one interval per half millisecond of the step, within bounds.
    const auto capacity = static_cast<std::size_t>(std::clamp(estimate_ns / 500'000.0 + 64, 256.0, 8192.0));
    SharedArea area(k, capacity);

    std::vector<ChildProcess> processes;
    std::vector<std::thread> thread_workers;
    for (int i = 0; i < k; ++i) {
        if (threads) {
            thread_workers.emplace_back([&area, i, params] { run_worker(area, i, params); });
        } else {
            processes.push_back(ChildProcess::fork([&area, i, params] {
                run_worker(area, i, params);
                return 0;
            }));
        }
    }
    for (int i = 0; i < k; ++i)
        while (area.record(i).state.load(std::memory_order_acquire) < 1)
            std::this_thread::sleep_for(std::chrono::microseconds(200));

    const auto irq_before = timer_interrupts();
    area.header().go_at = now_ns();
    area.header().go.store(1, std::memory_order_release);
    for (auto& t : thread_workers) t.join();
    for (auto& p : processes) {
        const auto status = p.wait();
        if (!status.exited() || status.exit_code() != 0)
            throw std::runtime_error(fmt::format("worker {} ended: {}", p.pid(), status.describe()));
    }
    const auto irq_after = timer_interrupts();

    StepResult step;
    step.k = k;
    step.threads = threads;
    step.cpus = static_cast<int>(cpus.size());
    step.work_ns = params.work_ns;
    step.go_at = area.header().go_at;
    std::vector<double> shares;
    for (int i = 0; i < k; ++i) {
        const WorkerRecord& rec = area.record(i);
        WorkerResult w;
        w.pid = rec.pid;
        w.tid = rec.tid;
        w.run_ns = rec.run_ns;
        w.wall_ns = rec.done_at - step.go_at;
        w.share = w.wall_ns > 0 ? double(w.run_ns) / double(w.wall_ns) : 0;
        w.gaps = rec.gaps;
        w.dropped = rec.dropped;
        w.intervals.assign(area.intervals(i), area.intervals(i) + rec.intervals);
        for (const auto& iv : w.intervals) w.cpus.insert(iv.cpu);
        w.first_cpu = rec.first_cpu;
        if (rec.first_move_at > 0) w.first_move_ns = rec.first_move_at - step.go_at;
        const auto& a = rec.kernel_start;
        const auto& b = rec.kernel_end;
        auto delta = [](std::int64_t x, std::int64_t y) { return x >= 0 && y >= 0 ? y - x : -1; };
        w.run_kernel_ns = delta(a.run_ns, b.run_ns);
        w.wait_kernel_ns = delta(a.wait_ns, b.wait_ns);
        w.slices_kernel = delta(a.timeslices, b.timeslices);
        w.voluntary = delta(a.voluntary_switches, b.voluntary_switches);
        w.involuntary = delta(a.involuntary_switches, b.involuntary_switches);
        w.migrations = delta(a.migrations, b.migrations);
        w.kernel_share = w.wall_ns > 0 && w.run_kernel_ns >= 0 ? double(w.run_kernel_ns) / double(w.wall_ns) : 0;
        step.wall_ns = std::max(step.wall_ns, w.wall_ns);
        shares.push_back(w.share);
        w.gaps = rec.gaps;
        // A slice runs from one gap to the next: intervals split only by a move to another CPU
        // (they touch) belong to one slice. The first and the last slice are partial.
        std::vector<double> slices;
        for (std::size_t j = 0; j < w.intervals.size(); ++j) {
            if (j > 0 && w.intervals[j].start == w.intervals[j - 1].end) slices.back() += double(w.intervals[j].end - w.intervals[j].start);
            else slices.push_back(double(w.intervals[j].end - w.intervals[j].start));
        }
        if (slices.size() > 2) step.slices_ns.insert(step.slices_ns.end(), slices.begin() + 1, slices.end() - 1);
        if (w.slices_kernel > 0) step.kernel_slice_ns.push_back(double(w.run_kernel_ns) / double(w.slices_kernel));
        if (w.involuntary > 0) step.involuntary_per_s += double(w.involuntary);
        if (w.migrations > 0) step.migrations += w.migrations;
        step.workers.push_back(std::move(w));
    }
    step.started_on_one_cpu = params.start_cpu >= 0;
    derive_from_intervals(step);
    step.mean_share = std::accumulate(shares.begin(), shares.end(), 0.0) / double(shares.size());
    step.min_share = *std::min_element(shares.begin(), shares.end());
    step.max_share = *std::max_element(shares.begin(), shares.end());
    step.jain = jain_fairness(shares);
    step.expected_share = std::min(1.0, double(cpus.size()) / double(k));
    step.expected_wall_ns = double(params.work_ns) / step.expected_share;
    const double wall_s = double(step.wall_ns) / 1e9;
    step.involuntary_per_s = wall_s > 0 ? step.involuntary_per_s / wall_s : 0;
    if (irq_before && irq_after && irq_before->size() == irq_after->size() && wall_s > 0) {
        // Busy CPUs only: those the workers kept busy the whole step (K >= CPUs).
        if (k >= static_cast<int>(cpus.size())) {
            double ticks = 0;
            for (int cpu : cpus)
                if (cpu < static_cast<int>(irq_after->size())) ticks += double((*irq_after)[cpu] - (*irq_before)[cpu]);
            step.ticks_per_busy_cpu_s = ticks / double(cpus.size()) / wall_s;
        }
    }
    return step;
}

// ---------------------------------------------------------------------------------------------
// Verdicts: pure functions of the steps, unit-tested in tests/unit/test_time_slicing.cpp.

struct KernelSliceFacts {
    std::optional<double> base_slice_ns;  // configured (debugfs), when readable
    std::string base_slice_unknown;       // why not
    std::optional<double> tick_ns;        // as observed from timer interrupts on busy CPUs
};

std::string ms(double ns) { return fmt::format("{:.2f} ms", ns / 1e6); }

// The process steps (the threads step of the default sweep is T1's, not P4's).
std::vector<const StepResult*> process_steps(const std::vector<StepResult>& steps) {
    std::vector<const StepResult*> out;
    const bool any_processes = std::any_of(steps.begin(), steps.end(), [](const auto& x) { return !x.threads; });
    for (const auto& s : steps)
        if (!(s.threads && any_processes)) out.push_back(&s);
    return out;
}

// The most over-subscribed step (the largest K above the CPU count), processes first.
const StepResult* most_oversubscribed(const std::vector<StepResult>& steps) {
    const StepResult* best = nullptr;
    for (const auto* s : process_steps(steps))
        if (s->k > s->cpus && (!best || s->k > best->k)) best = s;
    return best;
}

std::string balance_note(const StepResult& s) {
    return fmt::format("longest run without a break {}, first move to another CPU {}", ms(double(s.longest_run_ns)),
                       s.first_move_ns ? "after " + ms(double(*s.first_move_ns)) : "not seen");
}

// P4: what would refute it is more workers running at one instant than there are CPUs, so that
// is what is tested, from the run intervals. The shares are judged on the CPU time delivered
// against the CPUs' capacity while enough work was waiting (not on per-worker shares, which per-CPU
// run queues make uneven until the balancer moves a worker), and only when other load was below
// the margin.
ClaimVerdict decide_p4(const std::vector<StepResult>& steps, const Interference& interference) {
    std::vector<std::string> parts;
    bool any_over = false, all_busy = true;
    const StepResult* overcommitted = nullptr;
    for (const auto* s : process_steps(steps)) {
        const bool over = s->k > s->cpus;
        any_over = any_over || over;
        if (s->wall_ns > 0 && double(s->overcommitted_ns) > kOvercommitted * double(s->wall_ns)) overcommitted = s;
        const bool busy = s->k <= s->cpus ? s->min_share >= kRanAlone : s->busy_cpus_fraction >= kBusyCpus;
        all_busy = all_busy && busy;
        if (s->k <= s->cpus)
            parts.push_back(fmt::format("K={}: every worker got {:.2f}+ of a CPU, at most {} at once", s->k, s->min_share, s->max_running));
        else
            parts.push_back(fmt::format("K={}: at most {} at once, CPUs busy {:.0f}%, wall {:.2f}x the work", s->k, s->max_running,
                                        100 * s->busy_cpus_fraction, double(s->wall_ns) / double(s->work_ns)));
    }
    const int cpus = steps.empty() ? 0 : steps.front().cpus;
    const std::string evidence = fmt::format("{} on {} CPU{}", fmt::join(parts, "; "), cpus, cpus == 1 ? "" : "s");
    if (!any_over) return {"P4", Verdict::not_measured, "no step had more runnable workers than CPUs: " + evidence};
    if (overcommitted)
        return {"P4", Verdict::refuted,
                fmt::format("at K={} more workers ran at once than there are CPUs ({} at once, {} in all): {}", overcommitted->k,
                            overcommitted->max_running, ms(double(overcommitted->overcommitted_ns)), evidence)};
    if (!all_busy && interference.exceeds(kInterferenceMargin))
        return {"P4", Verdict::not_measured,
                fmt::format("the CPUs were not ours to judge shares on: {} (margin {:.0f}%): {}", interference.describe(),
                            100 * kInterferenceMargin, evidence)};
    if (!all_busy)
        return {"P4", Verdict::nuanced,
                fmt::format("never more than {} ran at once, but the CPUs idled while work waited, with no other load to explain it "
                            "(a CPU quota, or the balancer's delay): {}",
                            cpus, evidence)};
    return {"P4", Verdict::confirmed,
            fmt::format("up to the CPU count all ran at once; above it never more than {} ran at once and they took turns, the "
                        "CPUs kept busy: {}",
                        cpus, evidence)};
}

// P2: what would refute it is over-subscribed workers running one after another, never
// preempted; that is what is tested, at the most over-subscribed step. The slice is compared with
// the configured base slice where that is readable (a fixed fact of this machine).
ClaimVerdict decide_p2(const std::vector<StepResult>& steps, const KernelSliceFacts& facts, const Interference& interference) {
    const StepResult* over = most_oversubscribed(steps);
    if (!over)
        for (const auto& s : steps)
            if (s.k > s.cpus && (!over || s.k > over->k)) over = &s;
    if (!over) return {"P2", Verdict::not_measured, "no step had more workers than CPUs, so nobody had to take turns"};
    const auto& s = *over;
    int with_turns = 0, preempted = 0;
    std::int64_t involuntary = 0;
    for (const auto& w : s.workers) {
        if (w.gaps >= 2) ++with_turns;
        if (w.gaps >= 1 || w.involuntary > 0) ++preempted;
        if (w.involuntary > 0) involuntary += w.involuntary;
    }
    const std::string who = s.threads ? "threads" : "processes";
    if (preempted == 0)
        return {"P2", Verdict::refuted,
                fmt::format("{} {} on {} CPUs ran one after another without being preempted ({} involuntary switches)", s.k,
                            who, s.cpus, involuntary)};
    std::vector<double> sorted = s.slices_ns;
    std::sort(sorted.begin(), sorted.end());
    const double median_slice = sorted.empty() ? 0 : percentile_sorted(sorted, 50);
    const std::string evidence = fmt::format(
        "{} {} on {} CPU{}: {} of {} got several slices in turn, slice median {} (p90 {}), {} involuntary switches "
        "({:.0f}/s), shares {:.2f}-{:.2f}, Jain {:.3f}",
        s.k, who, s.cpus, s.cpus == 1 ? "" : "s", with_turns, s.k, ms(median_slice), sorted.empty() ? "-" : ms(percentile_sorted(sorted, 90)),
        involuntary, s.involuntary_per_s, s.min_share, s.max_share, s.jain);
    // Across CPUs the shares are only as even as the load balancer makes them: each CPU has its
    // own run queue, and a worker can have one to itself for tens of milliseconds. That is named,
    // not held against the claim, which is about slices and the kernel choosing who runs.
    const std::string fairness =
        s.jain < kUnfair ? fmt::format("; shares uneven across CPUs (Jain below {:.2f}): per-CPU run queues until the balancer "
                                       "moved a worker, {}{}",
                                       kUnfair, balance_note(s),
                                       interference.exceeds(kInterferenceMargin) ? "; " + interference.describe() : "")
                         : std::string();
    if (facts.base_slice_ns && median_slice > 0) {
        const double ratio = median_slice / *facts.base_slice_ns;
        if (ratio < kSliceRatioLow || ratio > kSliceRatioHigh)
            return {"P2", Verdict::nuanced,
                    fmt::format("{}{}; the observed slice is {:.1f}x the configured base slice {}{}", evidence, fairness, ratio,
                                ms(*facts.base_slice_ns),
                                facts.tick_ns ? fmt::format(": slices end at timer ticks ({} as observed)", ms(*facts.tick_ns)) : "")};
        return {"P2", Verdict::confirmed, fmt::format("{}{}; configured base slice {}", evidence, fairness, ms(*facts.base_slice_ns))};
    }
    return {"P2", Verdict::confirmed,
            fmt::format("{}{}; the configured base slice is unknown ({}){}", evidence, fairness, facts.base_slice_unknown,
                        facts.tick_ns ? fmt::format(", timer tick {} as observed", ms(*facts.tick_ns)) : "")};
}

// Workers that ran on more than one CPU: seen by the loop's sched_getcpu, by the kernel's
// migration count, or in their run intervals.
bool moved(const WorkerResult& w) { return w.first_move_ns || w.migrations > 0 || w.cpus.size() > 1; }

int workers_moved(const StepResult& s) {
    return static_cast<int>(std::count_if(s.workers.begin(), s.workers.end(), [](const WorkerResult& w) { return moved(w); }));
}

// T1: what would refute it is threads without their own kernel identity and counts. That the
// scheduler moves them on its own is shown by starting every thread on one CPU and allowing all:
// an idle CPU pulls work within milliseconds, so this does not hang on the chance of a migration
// in a short window.
ClaimVerdict decide_t1(const std::vector<StepResult>& steps, bool pinned, const Interference& interference) {
    const StepResult* t = nullptr;
    for (const auto& s : steps)
        if (s.threads) t = &s;
    if (!t) return {"T1", Verdict::not_measured, "no step ran threads"};
    std::set<int> tids, pids;
    int with_own_stats = 0;
    std::int64_t min_run = INT64_MAX, max_run = 0;
    for (const auto& w : t->workers) {
        tids.insert(w.tid);
        pids.insert(w.pid);
        if (w.run_kernel_ns > 0) {
            ++with_own_stats;
            min_run = std::min(min_run, w.run_kernel_ns);
            max_run = std::max(max_run, w.run_kernel_ns);
        }
    }
    const int k = t->k;
    const int moved = workers_moved(*t);
    const std::string start = t->started_on_one_cpu ? fmt::format(" (all started on CPU {})", t->workers.empty() ? -1 : t->workers.front().first_cpu) : "";
    const std::string evidence = fmt::format(
        "{} threads of {} process{}: {} distinct tids, {} with their own schedstat (run {}-{}), {} moved to another CPU{}{}", k,
        pids.size(), pids.size() == 1 ? "" : "es", tids.size(), with_own_stats, ms(double(min_run == INT64_MAX ? 0 : min_run)),
        ms(double(max_run)), moved, start, t->first_move_ns ? ", the first after " + ms(double(*t->first_move_ns)) : "");
    if (static_cast<int>(tids.size()) < k || with_own_stats < k)
        return {"T1", Verdict::refuted, "threads were not separate kernel tasks: " + evidence};
    if (t->cpus < 2 || pinned)
        return {"T1", Verdict::nuanced,
                evidence + (pinned ? "; pinned to one CPU, so no migration could happen" : "; one CPU only, so no migration could happen")};
    if (moved == 0 && interference.exceeds(kInterferenceMargin))
        return {"T1", Verdict::not_measured,
                fmt::format("{}; none moved, but no CPU was free to move to: {}", evidence, interference.describe())};
    if (moved == 0)
        return {"T1", Verdict::nuanced, evidence + "; the scheduler moved none of them to a free CPU, so its own moves were not seen"};
    return {"T1", Verdict::confirmed, evidence + ", by the scheduler's choice"};
}

// ---------------------------------------------------------------------------------------------
// The timeline: which worker ran on which CPU, and where each worker ran, over a short window.

char worker_letter(std::size_t i) {
    static constexpr std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return i < letters.size() ? letters[i] : '*';
}

Figure timeline(const StepResult& s, const std::vector<int>& cpus) {
    constexpr int kColumns = 80;
    const double wall = double(s.wall_ns);
    const double window = std::min(wall, 40e6);
    const double start = std::max(0.0, std::min(wall * 0.25, wall - window));
    const double column = window / kColumns;

    Figure f;
    f.title = fmt::format("Timeline: K={} {} on CPU{} {}, {:.0f}-{:.0f} ms after the start ({:.2f} ms per column)", s.k,
                          s.threads ? "threads" : "processes", cpus.size() == 1 ? "" : "s", format_cpu_list(cpus),
                          start / 1e6, (start + window) / 1e6, column / 1e6);
    auto running_at = [&](const WorkerResult& w, double t, int* cpu) {
        const Nanos abs = s.go_at + static_cast<Nanos>(t);
        for (const auto& iv : w.intervals)
            if (iv.start <= abs && abs <= iv.end) {
                *cpu = iv.cpu;
                return true;
            }
        return false;
    };
    std::string ruler(kColumns, ' ');
    for (int c = 0; c < kColumns; c += 20) {
        const auto label = fmt::format("|{:.0f}ms", (start + c * column) / 1e6);
        ruler.replace(static_cast<std::size_t>(c), std::min(label.size(), ruler.size() - static_cast<std::size_t>(c)), label);
    }
    f.lines.push_back(fmt::format("{:<10} {}", "", ruler));
    for (int cpu : cpus) {
        std::string lane(kColumns, '.');
        for (int c = 0; c < kColumns; ++c) {
            const double t = start + (c + 0.5) * column;
            for (std::size_t i = 0; i < s.workers.size(); ++i) {
                int where = -1;
                if (running_at(s.workers[i], t, &where) && where == cpu) {
                    lane[static_cast<std::size_t>(c)] = worker_letter(i);
                    break;
                }
            }
        }
        f.lines.push_back(fmt::format("{:<10} {}", fmt::format("CPU {}", cpu), lane));
    }
    const std::size_t shown = std::min<std::size_t>(s.workers.size(), 16);
    for (std::size_t i = 0; i < shown; ++i) {
        std::string lane(kColumns, '.');
        for (int c = 0; c < kColumns; ++c) {
            int where = -1;
            if (running_at(s.workers[i], start + (c + 0.5) * column, &where))
                lane[static_cast<std::size_t>(c)] = where >= 0 && where < 10 ? static_cast<char>('0' + where) : '#';
        }
        f.lines.push_back(fmt::format("{:<10} {}", fmt::format("{} {}", worker_letter(i), s.workers[i].tid), lane));
    }
    f.note = fmt::format(
        "CPU lanes: the letter of the worker running there ('.' = none of them). Worker lanes: the CPU the worker ran on "
        "('.' = waiting for a CPU). {}The run intervals come from each worker's clock gaps, not from a kernel trace.",
        s.workers.size() > shown ? fmt::format("Only the first {} of {} workers get a lane. ", shown, s.workers.size()) : "");
    return f;
}

// ---------------------------------------------------------------------------------------------

std::string raw_json(const std::vector<StepResult>& steps, const StepResult* timeline_step) {
    Json raw;
    Json jsteps = Json::array();
    for (const auto& s : steps) {
        Json workers = Json::array();
        for (const auto& w : s.workers)
            workers.push_back(Json{{"tid", w.tid}, {"pid", w.pid}, {"share", w.share}, {"kernel_share", w.kernel_share},
                                   {"run_ms", double(w.run_ns) / 1e6}, {"wall_ms", double(w.wall_ns) / 1e6},
                                   {"slices", w.intervals.size()}, {"kernel_slices", w.slices_kernel},
                                   {"involuntary", w.involuntary}, {"voluntary", w.voluntary}, {"migrations", w.migrations}});
        jsteps.push_back(Json{{"k", s.k}, {"threads", s.threads}, {"cpus", s.cpus}, {"work_ms", double(s.work_ns) / 1e6},
                              {"wall_ms", double(s.wall_ns) / 1e6}, {"mean_share", s.mean_share},
                              {"expected_share", s.expected_share}, {"jain", s.jain}, {"workers", std::move(workers)}});
    }
    raw["steps"] = std::move(jsteps);
    if (timeline_step) {
        Json lanes = Json::array();
        for (const auto& w : timeline_step->workers) {
            Json ivs = Json::array();
            for (const auto& iv : w.intervals)
                ivs.push_back(Json::array({double(iv.start - timeline_step->go_at) / 1e6, double(iv.end - timeline_step->go_at) / 1e6, iv.cpu}));
            lanes.push_back(Json{{"tid", w.tid}, {"intervals_ms_cpu", std::move(ivs)}});
        }
        raw["timeline"] = Json{{"k", timeline_step->k}, {"threads", timeline_step->threads}, {"workers", std::move(lanes)}};
    }
    return raw.dump();
}

Result run(const DemoContext& ctx) {
    Result result;
    const Options& o = g_options;
    std::vector<int> cpus = ctx.env.affinity_cpus;
    if (o.pin >= 0) {
        if (std::find(cpus.begin(), cpus.end(), o.pin) == cpus.end())
            throw UsageError(fmt::format("--pin {}: CPU not in this process's affinity mask ({})", o.pin, format_cpu_list(cpus)));
        cpus = {o.pin};
    }
    const int n = static_cast<int>(cpus.size());
    const double duration_s = o.duration_s > 0 ? o.duration_s : (ctx.options.quick ? 0.05 : 0.2);

    const Calibration cal = calibrate(ctx.clock);

    struct Plan {
        int k;
        bool threads;
    };
    std::vector<Plan> plan;
    if (o.workers > 0) {
        plan.push_back({o.workers, o.threads});
    } else {
        for (int k : {1, n, 2 * n, 4 * n})
            if (plan.empty() || plan.back().k != k) plan.push_back({k, o.threads});
    }
    if (!o.threads) plan.push_back({std::max(2, 2 * n), true});  // T1: threads, always

    KernelSliceFacts base_facts;
    if (const Fact* f = ctx.env.find("sched_base_slice_ns"); f && f->value) base_facts.base_slice_ns = std::stod(*f->value);
    else if (f) base_facts.base_slice_unknown = f->unknown_reason;
    auto facts_of = [&](const std::vector<StepResult>& steps) {
        KernelSliceFacts facts = base_facts;
        for (const auto& s : steps)
            if (s.ticks_per_busy_cpu_s && *s.ticks_per_busy_cpu_s > 0 && !facts.tick_ns) facts.tick_ns = 1e9 / *s.ticks_per_busy_cpu_s;
        return facts;
    };

    // R independent trials of the whole sweep, each with the interference around it.
    struct Trial {
        std::vector<StepResult> steps;
        Interference interference;
        ClaimVerdict p2, p4, t1;
    };
    std::vector<Trial> trials;
    std::vector<std::string> shortened;
    for (int r = 0; r < ctx.trials(); ++r) {
        Trial trial;
        const InterferenceProbe probe(cpus);
        for (const auto& p : plan) {
            double work_s = p.threads && !o.threads ? duration_s / 2 : duration_s;
            const double oversubscription = std::max(1.0, double(p.k) / n);
            if (work_s * oversubscription > kMaxStepWallS) {
                work_s = kMaxStepWallS / oversubscription;
                if (r == 0) shortened.push_back(fmt::format("K={}: {:.3f} s of CPU each", p.k, work_s));
            }
            // The T1 threads start on one CPU and are then allowed all: the scheduler's moves are its own.
            const int start_cpu = p.threads && o.pin < 0 && n > 1 ? cpus.front() : -1;
            const WorkParams params{static_cast<Nanos>(work_s * 1e9), cal.threshold_ns, cal.chunk_iterations, o.pin, start_cpu, nullptr};
            trial.steps.push_back(run_step(p.k, p.threads, cpus, params));
        }
        trial.interference = probe.stop();
        trial.p2 = decide_p2(trial.steps, facts_of(trial.steps), trial.interference);
        trial.p4 = decide_p4(trial.steps, trial.interference);
        trial.t1 = decide_t1(trial.steps, o.pin >= 0, trial.interference);
        trials.push_back(std::move(trial));
    }
    auto combined = [&](ClaimVerdict Trial::*which) {
        std::vector<ClaimVerdict> each;
        for (const auto& t : trials) each.push_back(t.*which);
        return decide_from_trials(each);
    };
    const ClaimVerdict p2 = combined(&Trial::p2), p4 = combined(&Trial::p4), t1 = combined(&Trial::t1);
    // The trial shown in detail: the first whose P4 verdict is the combined one.
    std::size_t shown_trial = 0;
    for (std::size_t i = 0; i < trials.size(); ++i)
        if (trials[i].p4.verdict == p4.verdict) {
            shown_trial = i;
            break;
        }
    const std::vector<StepResult>& steps = trials[shown_trial].steps;

    // Trials table: the decisive figures of every trial.
    auto& tt = result.add_table(
        fmt::format("Trials: {} independent runs of the sweep, each decided on its own", trials.size()),
        {"trial", "interference", "K<=CPUs: min share", "K>CPUs: CPUs busy", "most at once", "Jain (largest K)", "balancer's first move",
         "threads moved", "P2", "P4", "T1"});
    for (std::size_t i = 0; i < trials.size(); ++i) {
        const auto& tr = trials[i];
        double min_alone = 1, min_busy = 1;
        int most = 0;
        std::optional<Nanos> first_move;
        for (const auto* s : process_steps(tr.steps)) {
            if (s->k <= s->cpus) min_alone = std::min(min_alone, s->min_share);
            else min_busy = std::min(min_busy, s->busy_cpus_fraction);
            most = std::max(most, s->max_running);
            if (s->k > s->cpus && s->first_move_ns && (!first_move || *s->first_move_ns < *first_move)) first_move = s->first_move_ns;
        }
        const StepResult* over = most_oversubscribed(tr.steps);
        const StepResult& threads = tr.steps.back();
        const int moved = workers_moved(threads);
        tt.rows.push_back({std::to_string(i + 1) + (i == shown_trial ? " (shown)" : ""),
                           tr.interference.known ? fmt::format("{:.1f}%", 100 * tr.interference.fraction()) : "unknown",
                           fmt::format("{:.2f}", min_alone), fmt::format("{:.0f}%", 100 * min_busy), fmt::format("{} of {} CPUs", most, n),
                           over ? fmt::format("{:.3f}", over->jain) : "-", first_move ? ms(double(*first_move)) : "-",
                           fmt::format("{} of {}{}", moved, threads.k,
                                       threads.first_move_ns ? ", first after " + ms(double(*threads.first_move_ns)) : ""),
                           std::string(to_string(tr.p2.verdict)), std::string(to_string(tr.p4.verdict)), std::string(to_string(tr.t1.verdict))});
    }
    tt.note = fmt::format(
        "Interference = other tasks' CPU time and steal on the allowed CPUs during the trial, from /proc/stat against our own "
        "getrusage (margin {:.0f}%). 'CPUs busy' = the workers' CPU time until the first of them finished / the CPUs' "
        "capacity then (P4 needs {:.0f}%+). 'Most at once' from the run intervals: more than the CPU count would refute "
        "P4. 'Balancer's first move': the earliest a process moved to another CPU in an over-subscribed step; until then each "
        "CPU's run queue kept its own workers (a worker alone on one CPU while others share the other). The T1 threads all "
        "start on CPU {} and are then allowed every CPU. A verdict needs a majority of trials, 'refuted' all of them.",
        100 * kInterferenceMargin, 100 * kBusyCpus, cpus.front());

    // Per-step table.
    auto& t = result.add_table(
        "Steps: K workers each needing the same CPU time",
        {"K", "kind", "CPUs", "work", "wall", "expected wall", "share min-max", "mean share", "expected", "Jain", "slice median",
         "p90", "max", "schedstat slice", "invol./s", "migrations"});
    for (const auto& s : steps) {
        std::vector<double> sorted = s.slices_ns;
        std::sort(sorted.begin(), sorted.end());
        std::vector<double> ks = s.kernel_slice_ns;
        std::sort(ks.begin(), ks.end());
        t.rows.push_back({std::to_string(s.k), s.threads ? "threads" : "processes", std::to_string(s.cpus),
                          ms(double(s.work_ns)), ms(double(s.wall_ns)), ms(s.expected_wall_ns),
                          fmt::format("{:.2f}-{:.2f}", s.min_share, s.max_share), fmt::format("{:.3f}", s.mean_share),
                          fmt::format("{:.3f}", s.expected_share), fmt::format("{:.3f}", s.jain),
                          sorted.empty() ? "-" : ms(percentile_sorted(sorted, 50)),
                          sorted.empty() ? "-" : ms(percentile_sorted(sorted, 90)), sorted.empty() ? "-" : ms(sorted.back()),
                          ks.empty() ? "-" : ms(percentile_sorted(ks, 50)), fmt::format("{:.0f}", s.involuntary_per_s),
                          std::to_string(s.migrations)});
        const std::string tag = fmt::format("k{}_{}", s.k, s.threads ? "threads" : "processes");
        result.add_metric("mean_share_" + tag, s.mean_share, "ratio", fmt::format("mean CPU share at K={}", s.k));
        result.add_metric("wall_" + tag, double(s.wall_ns), "ns", fmt::format("wall time for the fixed work at K={}", s.k));
        if (!s.slices_ns.empty())
            result.add_metric("slice_" + tag, summarize(s.slices_ns), "ns", fmt::format("observed slices at K={} (clock gaps)", s.k))
                .headline = s.k == 4 * n && !s.threads;
    }
    // Across trials: the figures P4 stands on, with their spread.
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& s = steps[i];
        if (s.threads && !o.threads) continue;
        std::vector<double> busy, shares;
        for (const auto& tr : trials) {
            busy.push_back(tr.steps[i].k <= tr.steps[i].cpus ? tr.steps[i].min_share : tr.steps[i].busy_cpus_fraction);
            shares.push_back(tr.steps[i].mean_share);
        }
        const std::string tag = fmt::format("k{}_processes", s.k);
        result.add_metric("cpus_busy_" + tag, summarize(busy), "ratio",
                          s.k <= s.cpus ? fmt::format("K={}: the least share of a CPU any worker got, over trials", s.k)
                                        : fmt::format("K={}: CPU time delivered / capacity until the first finished, over trials", s.k))
            .headline = true;
        result.add_metric("trial_mean_share_" + tag, summarize(shares), "ratio", fmt::format("K={}: mean share, over trials", s.k));
    }
    Interference all_interference;
    for (const auto& tr : trials) all_interference += tr.interference;
    result.add_metric("interference", all_interference.fraction(), "ratio",
                      "other tasks' CPU time and steal, as a share of the allowed CPUs' time, over all trials");
    result.add_metric("steal", all_interference.steal_fraction(), "ratio", "steal time, as a share of the allowed CPUs' time");
    result.notes.push_back("Interference over all trials: " + all_interference.describe() + ".");
    t.note = fmt::format(
        "Share = a worker's run time (from its clock gaps) / its wall time since the common start; expected = min(1, CPUs/K). "
        "Slices come from the clock gaps, the first and last of each worker excluded (partial); 'schedstat slice' is the "
        "kernel's run time / number of times switched in, median over workers. Wall is the last worker's finish.{}",
        shortened.empty() ? "" : fmt::format(" Shortened to keep a step under {:.0f} s: {}.", kMaxStepWallS, fmt::join(shortened, ", ")));

    // The timeline step: the first over-subscribed process step, else the threads step.
    const StepResult* shown = nullptr;
    for (const auto& s : steps)
        if (!shown && s.k > s.cpus) shown = &s;
    if (!shown) shown = &steps.back();
    result.figures.push_back(timeline(*shown, cpus));

    // Per-worker view of that step, the clock's and the kernel's side by side.
    auto& wt = result.add_table(
        fmt::format("Workers of the timeline step (K={} {}): the clock's view beside the kernel's", shown->k,
                    shown->threads ? "threads" : "processes"),
        {"worker", shown->threads ? "tid" : "pid", "share", "kernel share", "slices (gaps)", "schedstat slices", "run (gaps)",
         "run (schedstat)", "wait (schedstat)", "invol.", "vol.", "migrations", "CPUs"});
    const std::size_t rows = std::min<std::size_t>(shown->workers.size(), 32);
    for (std::size_t i = 0; i < rows; ++i) {
        const auto& w = shown->workers[i];
        std::vector<int> cpu_list(w.cpus.begin(), w.cpus.end());
        auto known = [](std::int64_t v) { return v >= 0 ? std::to_string(v) : std::string("?"); };
        wt.rows.push_back({std::string(1, worker_letter(i)), std::to_string(w.tid), fmt::format("{:.3f}", w.share),
                           fmt::format("{:.3f}", w.kernel_share), std::to_string(w.intervals.size() + w.dropped),
                           known(w.slices_kernel), ms(double(w.run_ns)), w.run_kernel_ns >= 0 ? ms(double(w.run_kernel_ns)) : "?",
                           w.wait_kernel_ns >= 0 ? ms(double(w.wait_kernel_ns)) : "?", known(w.involuntary), known(w.voluntary),
                           known(w.migrations), format_cpu_list(cpu_list)});
    }
    wt.note = "The two views differ where they should: the kernel counts a switch-in even when the time off the CPU "
              "was shorter than the gap threshold, and the clock sees gaps the guest kernel did not cause (a long "
              "interrupt; in a virtual machine, the host stopping the virtual CPU). Run time from schedstat is updated at "
              "ticks and switches, so it can trail by up to a tick.";

    // The configured and the observed slice facts.
    const KernelSliceFacts facts = facts_of(steps);
    auto& kt = result.add_table("The kernel's slice settings and the clock", {"fact", "value"});
    auto fact = [&](const char* key) {
        const Fact* f = ctx.env.find(key);
        return f ? (f->value ? *f->value : "unknown: " + f->unknown_reason) : std::string("?");
    };
    kt.rows.push_back({"configured base slice (EEVDF)", facts.base_slice_ns ? ms(*facts.base_slice_ns) : "unknown"});
    kt.rows.push_back({"CONFIG_HZ", fact("config_hz")});
    kt.rows.push_back({"timer interrupts per busy CPU-second (observed)",
                       facts.tick_ns ? fmt::format("{:.0f} (a tick every {})", 1e9 / *facts.tick_ns, ms(*facts.tick_ns)) : "unknown"});
    kt.rows.push_back({"autogroup", fact("sched_autogroup")});
    kt.rows.push_back({"loop step undisturbed (median / p99)", fmt::format("{} / {}", format_value(cal.undisturbed_step.median, "ns"),
                                                                          format_value(cal.undisturbed_step.p99, "ns"))});
    kt.rows.push_back({"gap threshold", format_value(double(cal.threshold_ns), "ns")});
    kt.rows.push_back({"probe effect (clock read / loop step)", fmt::format("{:.2f}%", cal.probe_effect * 100)});
    kt.note = "The gap threshold is 8x the undisturbed loop's 99.9th percentile step, kept within 20-500 µs: an interrupt "
              "is not a switch, and a slice is milliseconds long.";
    result.add_metric("probe_effect", cal.probe_effect, "ratio", "clock read cost as a share of one loop step");
    result.add_metric("gap_threshold", double(cal.threshold_ns), "ns", "a clock step above this counts as time off the CPU");
    if (facts.tick_ns) result.add_metric("observed_tick", *facts.tick_ns, "ns", "1 / timer interrupts per busy CPU-second");

    result.config.repeat = 1;
    result.config.trials = static_cast<int>(trials.size());
    result.raw_json = raw_json(steps, shown);
    const StepResult* over = most_oversubscribed(steps);
    std::string busy;
    for (const auto* s : process_steps(steps))
        busy += fmt::format("{}K={} {:.2f}", busy.empty() ? "" : ", ", s->k, s->k <= s->cpus ? s->min_share : s->busy_cpus_fraction);
    const std::string slice_summary =
        over && !over->slices_ns.empty()
            ? fmt::format("{} processes on {} CPUs: slice median {}, {:.0f} involuntary switches/s, Jain {:.2f}", over->k, over->cpus,
                          ms(summarize(over->slices_ns).median), over->involuntary_per_s, over->jain)
            : "no over-subscribed step";
    const StepResult& thread_step = steps.back();
    const int moved = workers_moved(thread_step);
    auto agreed = [](const ClaimVerdict& v) { return fmt::format(" [{} of {} trials]", v.agreeing_trials(), v.trial_verdicts.size()); };
    result.add_verdict(p2, slice_summary + agreed(p2));
    result.add_verdict(p4, fmt::format("CPUs busy (K<=CPUs: least share): {}; at most {} at once on {} CPUs", busy,
                                       over ? over->max_running : 0, n) + agreed(p4));
    result.add_verdict(t1, fmt::format("{} {} with own tids and schedstat, {} moved{}", thread_step.k,
                                       thread_step.threads ? "threads" : "processes", moved,
                                       thread_step.first_move_ns ? " (first after " + ms(double(*thread_step.first_move_ns)) + ")" : "") +
                               agreed(t1));
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "time_slicing";
    s.title = "workers compete for CPUs: the slices they get, their shares, and the kernel's own counts";
    s.claims = {"P2", "P4", "T1"};
    s.default_timeout_s = 120;
    s.add_options = add_options;
    s.run = run;
    return s;
}

}  // namespace proclab::time_slicing

PROCLAB_DEMO_MAIN(proclab::time_slicing::spec)
