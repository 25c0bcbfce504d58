#include "threads_parallel/runs.hpp"

#include "proclab/sched.hpp"
#include "proclab/work.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <time.h>

namespace proclab::threads_parallel {

double thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

double speedup(double wall_one, double wall_n) { return wall_n > 0 ? wall_one / wall_n : 0; }
double efficiency(double speedup_value, int n) { return n > 0 ? speedup_value / n : 0; }

Nanos overlap_ns(const std::vector<RunInterval>& intervals) {
    std::vector<std::pair<Nanos, int>> events;
    for (const auto& iv : intervals) {
        events.emplace_back(iv.start, +1);
        events.emplace_back(iv.end, -1);
    }
    std::sort(events.begin(), events.end());  // at equal times -1 sorts first: touching is not overlapping
    Nanos total = 0, since = 0;
    int running = 0;
    for (const auto& [t, delta] : events) {
        if (running >= 2) total += t - since;
        running += delta;
        since = t;
    }
    return total;
}

// ---------------------------------------------------------------------------------------------
// The emulated GIL.

void EmulatedGil::take() {
    std::unique_lock lock(mutex_);
    while (locked_) {
        const auto seen = switches_;
        if (!released_.wait_for(lock, interval_, [&] { return !locked_; }) && locked_ && switches_ == seen)
            drop_request_.store(true, std::memory_order_relaxed);
    }
    locked_ = true;
    ++switches_;
    drop_request_.store(false, std::memory_order_relaxed);
    taken_.notify_all();
}

void EmulatedGil::release() {
    std::lock_guard lock(mutex_);
    locked_ = false;
    released_.notify_one();
}

bool EmulatedGil::check_drop_request() {
    if (!drop_request_.load(std::memory_order_relaxed)) return false;
    {
        std::unique_lock lock(mutex_);
        locked_ = false;
        const auto mine = switches_;
        released_.notify_one();
        // FORCE_SWITCHING: wait until another thread took it, so the same thread cannot win again.
        taken_.wait(lock, [&] { return switches_ != mine; });
    }
    take();
    return true;
}

std::uint64_t EmulatedGil::switches() const {
    std::lock_guard lock(mutex_);
    return switches_;
}

// ---------------------------------------------------------------------------------------------
// The jobs.

const char* name(WorkKind k) { return k == WorkKind::compute ? "compute-bound" : "memory-bound"; }

Job Job::compute(std::uint64_t total_chunks, std::uint64_t chunk_iterations) {
    Job j;
    j.kind_ = WorkKind::compute;
    j.total_chunks_ = total_chunks;
    j.chunk_iterations_ = chunk_iterations;
    return j;
}

Job Job::memory(std::uint64_t total_chunks, std::size_t buffer_bytes) {
    if (buffer_bytes < kSliceBytes || buffer_bytes % kSliceBytes != 0)
        throw std::invalid_argument("a memory-bound job's buffer is a whole number of 64 KiB slices");
    Job j;
    j.kind_ = WorkKind::memory;
    j.total_chunks_ = total_chunks;
    j.buffer_ = Mapping::anonymous(buffer_bytes, false);
    // Every page faulted in now, so a run times reads and nothing else.
    auto* words = static_cast<std::uint64_t*>(j.buffer_.data());
    for (std::size_t i = 0; i < buffer_bytes / 8; i += 512) words[i] = i;
    return j;
}

std::uint64_t Job::run_chunk(int thread, int n, std::uint64_t c, std::uint64_t x) const {
    if (kind_ == WorkKind::compute) return busy_work(chunk_iterations_, x);
    // Thread i starts at its own offset (i/n of the way through) and streams on, one word read
    // per 64-byte line: every line of the slice comes from memory.
    const std::uint64_t slices = buffer_.size() / kSliceBytes;
    const std::uint64_t slice = (std::uint64_t(thread) * slices / std::uint64_t(n) + c) % slices;
    const auto* p = static_cast<const std::uint64_t*>(buffer_.data()) + slice * (kSliceBytes / 8);
    std::uint64_t sum = x;
    for (std::size_t i = 0; i < kSliceBytes / 8; i += 8) sum += p[i];
    return sum;
}

double RunResult::busy_cpus() const {
    double cpu = 0;
    for (double c : thread_cpu_ns) cpu += c;
    return wall_ns > 0 ? cpu / wall_ns : 0;
}

RunResult run_threads(int n, const Job& job, EmulatedGil* gil) {
    RunResult r;
    r.n = n;
    r.kind = job.kind();
    r.thread_cpu_ns.assign(static_cast<std::size_t>(n), 0);
    const std::uint64_t total_chunks = job.total_chunks();
    std::vector<std::vector<RunInterval>> intervals(static_cast<std::size_t>(n));
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            const std::uint64_t chunks =
                total_chunks / std::uint64_t(n) + (std::uint64_t(i) < total_chunks % std::uint64_t(n) ? 1 : 0);
            auto& mine = intervals[std::size_t(i)];
            mine.reserve(1024);
            ready.fetch_add(1);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            const double cpu0 = thread_cpu_ns();
            std::uint64_t x = std::uint64_t(i);
            if (gil) gil->take();
            GapDetector gaps(kGapThreshold, now_ns());
            for (std::uint64_t c = 0; c < chunks; ++c) {
                x = job.run_chunk(i, n, c, x);
                if (gil) gil->check_drop_request();
                if (gaps.step(now_ns())) mine.push_back({i, gaps.closed().start, gaps.closed().end});
            }
            mine.push_back({i, gaps.current().start, gaps.current().end});
            if (gil) gil->release();
            r.thread_cpu_ns[std::size_t(i)] = thread_cpu_ns() - cpu0 + double(x & 0);
        });
    }
    while (ready.load() < n) std::this_thread::yield();
    r.start = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    r.wall_ns = double(now_ns() - r.start);
    r.bytes = total_chunks * job.bytes_per_chunk();
    if (gil) r.gil_switches = gil->switches();
    for (auto& v : intervals) r.intervals.insert(r.intervals.end(), v.begin(), v.end());
    return r;
}

std::vector<int> default_thread_counts(int cpus) {
    const int max_n = std::max(2, 2 * cpus);
    std::vector<int> counts;
    constexpr int kEveryCountUpTo = 16;  // 2x 8 CPUs: small machines keep the full sweep
    if (max_n <= kEveryCountUpTo) {
        for (int n = 1; n <= max_n; ++n) counts.push_back(n);
        return counts;
    }
    for (int n = 1; n <= 8; ++n) counts.push_back(n);
    for (int n = 12; n < max_n; n = n % 3 == 0 ? n / 3 * 4 : n / 2 * 3) counts.push_back(n);  // 12 16 24 32 48 ...
    counts.push_back(cpus);
    counts.push_back(max_n);
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    return counts;
}

}  // namespace proclab::threads_parallel
