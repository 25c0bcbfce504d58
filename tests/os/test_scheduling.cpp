// Scheduling semantics that hold on a loaded 2-core machine: they only get truer under load.
#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/sched.hpp"

#include <catch2/catch.hpp>
#include <sched.h>
#include <vector>

using namespace proclab;

namespace {
int first_allowed_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    ::sched_getaffinity(0, sizeof set, &set);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) return cpu;
    return 0;
}

struct BusyReport {
    double share;
    std::int64_t involuntary;
};
}  // namespace

TEST_CASE("three busy workers pinned to one CPU each get a share well below 1 and are preempted", "[os][sched]") {
    const int cpu = first_allowed_cpu();
    constexpr Nanos kSpin = 300'000'000;
    Pipe reports = Pipe::create();
    std::vector<ChildProcess> workers;
    for (int i = 0; i < 3; ++i)
        workers.push_back(ChildProcess::fork([&] {
            pin_to_cpu(cpu);
            const auto before = read_task_stats("/proc/thread-self");
            const Nanos start = now_ns();
            while (now_ns() - start < kSpin) {}
            const auto after = read_task_stats("/proc/thread-self");
            send_value(reports.write_end.get(),
                       BusyReport{double(after.run_ns - before.run_ns) / double(now_ns() - start),
                                  after.involuntary_switches - before.involuntary_switches});
            return 0;
        }));
    for (auto& w : workers) REQUIRE(w.wait().exit_code() == 0);
    for (int i = 0; i < 3; ++i) {
        const auto r = receive_value<BusyReport>(reports.read_end.get());
        REQUIRE(r);
        INFO("share " << r->share << ", involuntary switches " << r->involuntary);
        CHECK(r->share < 0.6);  // one CPU for three: about 1/3 each, less under other load
        CHECK(r->involuntary > 0);
    }
}

TEST_CASE("a ping-pong between two processes pinned to one CPU switches at least once per hop", "[os][sched]") {
    const int cpu = first_allowed_cpu();
    constexpr int kRoundTrips = 1000;
    Pipe there = Pipe::create(), back = Pipe::create(), report = Pipe::create();
    auto echo = ChildProcess::fork([&] {
        pin_to_cpu(cpu);
        const auto before = read_task_stats("/proc/thread-self");
        for (int i = 0; i < kRoundTrips; ++i) {
            if (!receive_value<char>(there.read_end.get())) return 1;
            send_value(back.write_end.get(), char{'b'});
        }
        const auto after = read_task_stats("/proc/thread-self");
        send_value(report.write_end.get(), after.voluntary_switches + after.involuntary_switches -
                                               before.voluntary_switches - before.involuntary_switches);
        return 0;
    });
    ScopedPin pin(cpu);
    const auto before = read_task_stats("/proc/thread-self");
    for (int i = 0; i < kRoundTrips; ++i) {
        send_value(there.write_end.get(), char{'p'});
        REQUIRE(receive_value<char>(back.read_end.get()));
    }
    const auto after = read_task_stats("/proc/thread-self");
    REQUIRE(echo.wait().exit_code() == 0);
    const auto child_switches = receive_value<std::int64_t>(report.read_end.get());
    REQUIRE(child_switches);
    const auto parent_switches =
        after.voluntary_switches + after.involuntary_switches - before.voluntary_switches - before.involuntary_switches;
    // 2 hops per round trip; on one CPU every hop hands the CPU to the other side. The first hop
    // may find the echo not yet waiting, so it need not switch.
    CHECK(parent_switches + *child_switches >= 2 * kRoundTrips - 1);
}
