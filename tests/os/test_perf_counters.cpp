// perf_event_open's software counters count what this thread did: page faults for fresh pages
// touched, context switches for each sleep, and a refused event says why instead of a number.
#include "proclab/perf_counters.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <thread>

#include <sys/mman.h>
#include <unistd.h>

using namespace proclab;

namespace {
// Software counters are refused only at perf_event_paranoid 3 or above (Debian's own patch) or
// without perf events at all; the test says so instead of failing there.
bool software_counters(const PerfCounters& c) {
    if (c.available(PerfEvent::page_faults)) return true;
    WARN("software perf events refused here: " << c.unavailable_reason(PerfEvent::page_faults));
    return false;
}
}  // namespace

TEST_CASE("touching fresh pages counts at least one page fault per page, in this thread", "[os][perf]") {
    PerfCounters counters;
    if (!software_counters(counters)) return;
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    constexpr std::size_t kPages = 256;
    void* region = ::mmap(nullptr, kPages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(region != MAP_FAILED);
    ::madvise(region, kPages * page, MADV_NOHUGEPAGE);
    counters.start();
    for (std::size_t i = 0; i < kPages; ++i) static_cast<volatile char*>(region)[i * page] = 1;
    const PerfCounts counts = counters.stop();
    ::munmap(region, kPages * page);
    REQUIRE(counts[PerfEvent::page_faults]);
    CHECK(*counts[PerfEvent::page_faults] >= kPages);
}

TEST_CASE("each sleep is a context switch of this thread, and nothing is counted while stopped", "[os][perf]") {
    PerfCounters counters;
    if (!software_counters(counters)) return;
    counters.start();
    for (int i = 0; i < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const PerfCounts counts = counters.stop();
    REQUIRE(counts[PerfEvent::context_switches]);
    CHECK(*counts[PerfEvent::context_switches] >= 5);
    if (counts[PerfEvent::task_clock]) CHECK(*counts[PerfEvent::task_clock] > 0);
    // Stopped: sleeping now adds nothing to the next interval's count.
    for (int i = 0; i < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    counters.start();
    const PerfCounts none = counters.stop();
    REQUIRE(none[PerfEvent::context_switches]);
    CHECK(*none[PerfEvent::context_switches] < 5);
}

TEST_CASE("every event is either counted or refused with a reason", "[os][perf]") {
    PerfCounters counters;
    counters.start();
    const PerfCounts counts = counters.stop();
    for (PerfEvent e : kAllPerfEvents) {
        INFO(to_string(e));
        CHECK(counters.available(e) == counts[e].has_value());
        CHECK(counters.available(e) == counters.unavailable_reason(e).empty());
    }
}
