#include "proclab/perf_counters.hpp"

#include <catch2/catch.hpp>

#include <cerrno>

using namespace proclab;

TEST_CASE("a refused perf event says why, in a few words", "[perf]") {
    CHECK(perf_refusal_reason(EACCES, 3, false) == "perf_event_paranoid 3 forbids it without CAP_PERFMON (EACCES)");
    CHECK(perf_refusal_reason(EPERM, -1, true) == "perf_event_paranoid forbids it without CAP_PERFMON (EPERM)");
    CHECK(perf_refusal_reason(ENOENT, 2, true) ==
          "no hardware counters exposed (a VM without a virtual PMU?) (ENOENT)");
    CHECK(perf_refusal_reason(EOPNOTSUPP, 2, false) == "not offered by this kernel (EOPNOTSUPP)");
    CHECK(perf_refusal_reason(ENOSYS, 2, false) == "this kernel has no perf events (ENOSYS)");
}

TEST_CASE("events are named as perf stat names them", "[perf]") {
    CHECK(to_string(PerfEvent::context_switches) == "context-switches");
    CHECK(to_string(PerfEvent::cpu_migrations) == "cpu-migrations");
    CHECK(to_string(PerfEvent::page_faults) == "page-faults");
}

TEST_CASE("a count per operation is the count over the operations, and nothing where nothing was counted", "[perf]") {
    PerfCounts counts;
    counts.values[static_cast<std::size_t>(PerfEvent::page_faults)] = 40;
    CHECK(counts.per_operation(PerfEvent::page_faults, 20) == 2.0);
    CHECK_FALSE(counts.per_operation(PerfEvent::page_faults, 0));
    CHECK_FALSE(counts.per_operation(PerfEvent::cycles, 20));
}
