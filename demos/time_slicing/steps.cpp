#include "time_slicing/steps.hpp"

#include "proclab/child.hpp"
#include "proclab/environment.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace proclab::time_slicing {

namespace {

std::optional<std::vector<std::int64_t>> timer_interrupts() {
    auto text = read_small_file("/proc/interrupts");
    if (!text) return std::nullopt;
    auto v = parse_timer_interrupts(*text);
    if (v.empty()) return std::nullopt;
    return v;
}

}  // namespace

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

void derive_from_intervals(StepResult& step) {
    const auto running = concurrency(step.workers, step.cpus);
    step.max_running = running.max_running;
    step.overcommitted_ns = running.above_ns;
    step.busy_cpus_fraction = busy_cpus_fraction(step.workers, step.cpus, step.go_at);
    step.first_move_ns.reset();
    step.longest_run_ns = 0;
    for (const auto& w : step.workers) {
        if (w.first_move_ns && (!step.first_move_ns || *w.first_move_ns < *step.first_move_ns))
            step.first_move_ns = w.first_move_ns;
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
            if (j > 0 && w.intervals[j].start == w.intervals[j - 1].end)
                slices.back() += double(w.intervals[j].end - w.intervals[j].start);
            else slices.push_back(double(w.intervals[j].end - w.intervals[j].start));
        }
        if (slices.size() > 2) step.slices_ns.insert(step.slices_ns.end(), slices.begin() + 1, slices.end() - 1);
        if (w.slices_kernel > 0) step.kernel_slice_ns.push_back(double(w.run_kernel_ns) / double(w.slices_kernel));
        if (w.involuntary > 0) step.involuntary_per_s += double(w.involuntary);
        if (w.migrations > 0) step.migrations += w.migrations;
        step.workers.push_back(std::move(w));
    }
    step.started_on_one_cpu = params.start_cpu >= 0;
    step.gap_threshold_ns = params.threshold_ns;
    step.kernel_run_ns = 0;
    for (const auto& w : step.workers)
        step.kernel_run_ns = w.run_kernel_ns < 0 || step.kernel_run_ns < 0 ? -1 : step.kernel_run_ns + w.run_kernel_ns;
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

}  // namespace proclab::time_slicing
