// address_space's floors (experiments.hpp): LEBench's small kernel operations.
#include "address_space/experiments.hpp"

#include "proclab/handles.hpp"
#include "proclab/perf_counters.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace proclab::address_space {

namespace {

void* map_or_throw(std::size_t bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw_errno("mmap");
    return p;
}

Floor map_unmap(std::size_t bytes, std::string what, std::string id, int samples, double overhead) {
    std::vector<double> ns;
    for (int i = -20; i < samples; ++i) {
        const Nanos t0 = now_ns();
        void* p = map_or_throw(bytes);
        ::munmap(p, bytes);
        const Nanos t1 = now_ns();
        if (i >= 0) ns.push_back(std::max(0.0, double(t1 - t0) - overhead));
    }
    return Floor{std::move(what),
                 std::move(id),
                 summarize(ns),
                 std::nullopt,
                 "mmap of anonymous private memory, never touched, then munmap; each pair timed",
                 {}};
}

}  // namespace

std::vector<Floor> measure_floors(int samples, double overhead) {
    std::vector<Floor> floors;
    {
        // Batches of calls, each batch timed: one call is below what a clock read can resolve well.
        constexpr int kBatch = 100;
        std::vector<double> ns;
        for (int b = -5; b < samples / 10; ++b) {
            const Nanos t0 = now_ns();
            for (int i = 0; i < kBatch; ++i) ::syscall(SYS_getppid);
            const Nanos t1 = now_ns();
            if (b >= 0) ns.push_back(std::max(0.0, double(t1 - t0) - overhead) / kBatch);
        }
        floors.push_back({"a system call (getppid)",
                          "syscall_getppid",
                          summarize(ns),
                          std::nullopt,
                          "syscall(SYS_getppid), batches of 100 timed, per call",
                          {}});
    }
    floors.push_back(map_unmap(kPage, "mmap + munmap, 4 KiB", "mmap_munmap_4KiB", samples, overhead));
    floors.push_back(map_unmap(std::size_t(1) << 20, "mmap + munmap, 1 MiB", "mmap_munmap_1MiB", samples, overhead));
    {
        // Each first touch of a fresh 4 KiB page timed on its own, the kernel's fault count beside.
        const std::size_t pages = static_cast<std::size_t>(std::max(64, samples));
        const std::size_t bytes = pages * kPage;
        char* p = static_cast<char*>(map_or_throw(bytes));
        ::madvise(p, bytes, MADV_NOHUGEPAGE);
        std::vector<double> ns;
        ns.reserve(pages);
        PerfCounters counters;
        counters.start();
        for (std::size_t i = 0; i < pages; ++i) {
            volatile char* at = p + i * kPage;
            const Nanos t0 = now_ns();
            *at = 1;
            const Nanos t1 = now_ns();
            ns.push_back(std::max(0.0, double(t1 - t0) - overhead));
        }
        const PerfCounts counts = counters.stop();
        ::munmap(p, bytes);
        Floor f{"a first-touch page fault, 4 KiB",
                "first_touch_fault",
                summarize(ns),
                counts.per_operation(PerfEvent::page_faults, static_cast<int>(pages)),
                "a write to each page of a fresh mapping (no huge pages), each timed",
                counters.available(PerfEvent::page_faults) ? std::string()
                                                           : counters.unavailable_reason(PerfEvent::page_faults)};
        floors.push_back(std::move(f));
    }
    return floors;
}

}  // namespace proclab::address_space
