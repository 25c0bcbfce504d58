// address_space's unmap experiment (experiments.hpp): will-it-scale's tlb_flush, siblings as
// threads and as processes, with the TLB shootdowns counted.
#include "address_space/experiments.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"
#include "proclab/work.hpp"

#include <atomic>
#include <sstream>
#include <thread>

#include <sys/mman.h>

namespace proclab::address_space {

std::string_view name(UnmapOp op) { return op == UnmapOp::munmap ? "munmap" : "madvise(MADV_DONTNEED)"; }

std::vector<std::int64_t> parse_tlb_interrupts(std::string_view text) {
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string label;
        words >> label;
        if (label != "TLB:") continue;
        std::vector<std::int64_t> counts;
        std::string word;
        while (words >> word) {
            std::size_t used = 0;
            try {
                const long long v = std::stoll(word, &used);
                if (used != word.size()) break;
                counts.push_back(v);
            } catch (const std::exception&) {
                break;  // the description ("TLB shootdowns") follows the counts
            }
        }
        return counts;
    }
    return {};
}

namespace {

std::optional<std::int64_t> tlb_total() {
    const auto text = read_small_file("/proc/interrupts");
    if (!text) return std::nullopt;
    const auto counts = parse_tlb_interrupts(*text);
    if (counts.empty()) return std::nullopt;
    std::int64_t total = 0;
    for (auto c : counts) total += c;
    return total;
}

void touch(char* p, std::size_t bytes) {
    auto* v = static_cast<volatile char*>(p);
    for (std::size_t off = 0; off < bytes; off += kPage) v[off] = 1;
}

}  // namespace

UnmapPoint measure_unmap(UnmapOp op, Kind siblings_kind, int home_cpu, const std::vector<int>& sibling_cpus, int ops,
                         double clock_overhead_ns) {
    UnmapPoint point;
    point.op = op;
    point.siblings_kind = siblings_kind;
    point.siblings = static_cast<int>(sibling_cpus.size());
    point.home_cpu = home_cpu;
    point.sibling_cpus = sibling_cpus;

    // The siblings spin on their CPUs: a thread of this process keeps this address space live
    // there (its translations may be cached, so every unmap must reach it); a process does not.
    std::atomic<bool> stop{false};
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    std::vector<ChildProcess> children;
    for (int cpu : sibling_cpus) {
        if (siblings_kind == Kind::threads)
            threads.emplace_back([&stop, &started, cpu] {
                pin_to_cpu(cpu);
                started.fetch_add(1);
                while (!stop.load(std::memory_order_relaxed)) {}
            });
        else
            children.push_back(ChildProcess::fork([cpu] {
                pin_to_cpu(cpu);
                for (std::uint64_t seed = 1;; ++seed) busy_work(1'000'000, seed);  // until SIGKILL
                return 0;
            }));
    }
    while (started.load() < static_cast<int>(threads.size())) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the processes are on their CPUs too

    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(ops));
    std::optional<std::int64_t> tlb_before, tlb_after;
    {
        ScopedPin pin(home_cpu);
        constexpr int kWarmup = 20;
        char* keep = nullptr;
        if (op == UnmapOp::madvise) {
            void* p = ::mmap(nullptr, kUnmapRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw_errno("mmap");
            keep = static_cast<char*>(p);
        }
        for (int i = -kWarmup; i < ops; ++i) {
            if (i == 0) tlb_before = tlb_total();
            char* p = keep;
            if (!p) {
                void* m = ::mmap(nullptr, kUnmapRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED) throw_errno("mmap");
                p = static_cast<char*>(m);
            }
            touch(p, kUnmapRegion);
            const Nanos t0 = now_ns();
            const int rc = keep ? ::madvise(p, kUnmapRegion, MADV_DONTNEED) : ::munmap(p, kUnmapRegion);
            const Nanos t1 = now_ns();
            if (rc != 0) throw_errno(keep ? "madvise" : "munmap");
            if (i >= 0) samples.push_back(std::max(0.0, double(t1 - t0) - clock_overhead_ns));
        }
        tlb_after = tlb_total();
        if (keep) ::munmap(keep, kUnmapRegion);
    }
    stop = true;
    for (auto& t : threads) t.join();
    for (auto& c : children) c.kill_and_wait();

    point.ns = summarize(samples);
    if (tlb_before && tlb_after) point.shootdowns_per_op = double(*tlb_after - *tlb_before) / double(ops);
    else
        point.shootdowns_unknown =
            "/proc/interrupts has no TLB line (x86 counts shootdowns there; Arm broadcasts TLB invalidations in "
            "hardware)";
    return point;
}

}  // namespace proclab::address_space
