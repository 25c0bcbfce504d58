// address_space's fault experiment (experiments.hpp): will-it-scale's page_fault1, as threads and
// as processes.
#include "address_space/experiments.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/futex.hpp"
#include "proclab/handles.hpp"
#include "proclab/perf_counters.hpp"

#include <algorithm>
#include <atomic>
#include <new>
#include <thread>

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/resource.h>

namespace proclab::address_space {

std::string_view name(Kind k) { return k == Kind::threads ? "threads" : "processes"; }

double FaultPoint::median_per_task() const {
    std::vector<double> v;
    for (const auto& t : per_task) v.push_back(t.per_s());
    return v.empty() ? 0 : summarize(v).median;
}

double FaultPoint::least_per_task() const {
    double least = 0;
    for (std::size_t i = 0; i < per_task.size(); ++i)
        least = i == 0 ? per_task[i].per_s() : std::min(least, per_task[i].per_s());
    return least;
}

double FaultPoint::total_per_s() const {
    double total = 0;
    for (const auto& t : per_task) total += t.per_s();
    return total;
}

std::optional<double> FaultPoint::faults_per_page() const {
    std::int64_t faults = 0, pages = 0;
    for (const auto& t : per_task) {
        const std::int64_t f = t.perf_faults >= 0 ? t.perf_faults : t.minor_faults;
        if (f < 0) return std::nullopt;
        faults += f;
        pages += t.pages;
    }
    return pages > 0 ? std::optional<double>(double(faults) / double(pages)) : std::nullopt;
}

namespace {

struct Gate {
    std::atomic<std::uint32_t> ready{0};
    std::atomic<std::uint32_t> go{0};
};

std::int64_t minor_faults_of_this_thread() {
    rusage u{};
    return ::getrusage(RUSAGE_THREAD, &u) == 0 ? static_cast<std::int64_t>(u.ru_minflt) : -1;
}

// One task: wait at the gate, then map, touch every page, unmap, until `duration_ns` has passed.
void fault_task(Gate& gate, TaskFaults& out, int cpu, Nanos duration_ns, char* perf_reason, std::size_t reason_size) {
    pin_to_cpu(cpu);
    PerfCounters counters;
    if (!counters.available(PerfEvent::page_faults) && perf_reason)
        copy_text(perf_reason, reason_size, counters.unavailable_reason(PerfEvent::page_faults));
    gate.ready.fetch_add(1, std::memory_order_acq_rel);
    while (gate.go.load(std::memory_order_acquire) == 0) futex_shared(&gate.go, FUTEX_WAIT, 0);
    const std::int64_t faults_before = minor_faults_of_this_thread();
    counters.start();
    const Nanos start = now_ns();
    std::int64_t pages = 0;
    Nanos now = start;
    do {
        void* p = ::mmap(nullptr, kFaultRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw_errno("mmap");
        ::madvise(p, kFaultRegion, MADV_NOHUGEPAGE);  // 4 KiB pages: one fault per page, as will-it-scale counts
        auto* bytes = static_cast<volatile char*>(p);
        for (std::size_t off = 0; off < kFaultRegion; off += kPage) bytes[off] = 1;
        ::munmap(p, kFaultRegion);
        pages += static_cast<std::int64_t>(kFaultRegion / kPage);
        now = now_ns();
    } while (now - start < duration_ns);
    const PerfCounts counts = counters.stop();
    const std::int64_t faults_after = minor_faults_of_this_thread();
    out.pages = pages;
    out.wall_ns = double(now - start);
    out.minor_faults = faults_before >= 0 && faults_after >= 0 ? faults_after - faults_before : -1;
    out.perf_faults = counts[PerfEvent::page_faults] ? static_cast<std::int64_t>(*counts[PerfEvent::page_faults]) : -1;
}

struct SharedState {
    Gate gate;
    char perf_reason[160] = {};
};

}  // namespace

FaultPoint measure_faults(Kind kind, int tasks, const std::vector<int>& cpus, Nanos duration_ns) {
    FaultPoint point;
    point.kind = kind;
    point.tasks = tasks;
    const std::size_t bytes = sizeof(SharedState) + sizeof(TaskFaults) * static_cast<std::size_t>(tasks) + 64;
    Mapping shared = Mapping::anonymous(bytes, true);
    auto* state = new (shared.data()) SharedState;
    auto* results =
        reinterpret_cast<TaskFaults*>(static_cast<char*>(shared.data()) + (sizeof(SharedState) + 63) / 64 * 64);
    for (int i = 0; i < tasks; ++i) new (&results[i]) TaskFaults;
    std::vector<std::thread> threads;
    std::vector<ChildProcess> children;
    std::atomic<bool> thread_failed{false};
    for (int i = 0; i < tasks; ++i) {
        const int cpu = cpus[static_cast<std::size_t>(i) % cpus.size()];
        if (kind == Kind::threads)
            threads.emplace_back([&, i, cpu] {
                try {
                    fault_task(state->gate, results[i], cpu, duration_ns, i == 0 ? state->perf_reason : nullptr,
                               sizeof state->perf_reason);
                } catch (...) {
                    thread_failed = true;
                    state->gate.ready.fetch_add(1);
                }
            });
        else
            children.push_back(ChildProcess::fork([&, i, cpu] {
                fault_task(state->gate, results[i], cpu, duration_ns, i == 0 ? state->perf_reason : nullptr,
                           sizeof state->perf_reason);
                return 0;
            }));
    }
    const Nanos give_up = now_ns() + 10'000'000'000;
    while (state->gate.ready.load(std::memory_order_acquire) < static_cast<std::uint32_t>(tasks) &&
           now_ns() < give_up) {
        if (std::any_of(children.begin(), children.end(), [](ChildProcess& c) { return c.try_wait().has_value(); }))
            break;
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    state->gate.go.store(1, std::memory_order_release);
    futex_shared(&state->gate.go, FUTEX_WAKE, tasks);
    for (auto& t : threads) t.join();
    bool failed = thread_failed;
    for (auto& c : children) {
        const ExitStatus s = c.wait();
        failed = failed || !s.exited() || s.exit_code() != 0;
    }
    if (failed) throw HarnessError(EIO, "a page-fault task failed");
    point.per_task.assign(results, results + tasks);
    point.perf_unavailable = state->perf_reason;
    state->~SharedState();
    return point;
}

}  // namespace proclab::address_space
