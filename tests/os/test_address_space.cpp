// address_space's experiments on the real kernel: every touched page is a fault the kernel
// counts, the tasks and siblings are real and are reaped, the floors are what they say.
#include "address_space/experiments.hpp"

#include "proclab/environment.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>

using namespace proclab;
using namespace proclab::address_space;

TEST_CASE("each touched page of a fresh mapping is a fault the kernel counts, in threads and in processes",
          "[os][address_space]") {
    const auto cpus = probe_environment().affinity_cpus;
    for (Kind kind : {Kind::threads, Kind::processes}) {
        const auto p = measure_faults(kind, 2, cpus, 20'000'000);
        REQUIRE(p.per_task.size() == 2);
        for (const auto& t : p.per_task) {
            CHECK(t.pages >= static_cast<std::int64_t>(kFaultRegion / kPage));  // at least one region each
            CHECK(t.wall_ns > 0);
        }
        REQUIRE(p.faults_per_page());
        CHECK(*p.faults_per_page() >= 0.99);  // one fault per first touch (no huge pages), plus the task's own
    }
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
}

TEST_CASE("unmapping beside sibling threads and processes leaves nothing running", "[os][address_space]") {
    const auto cpus = probe_environment().affinity_cpus;
    const std::vector<int> others(cpus.begin() + 1, cpus.end());
    for (Kind kind : {Kind::threads, Kind::processes})
        for (UnmapOp op : {UnmapOp::munmap, UnmapOp::madvise}) {
            const auto u = measure_unmap(op, kind, cpus.front(),
                                         others.empty() ? others : std::vector<int>{others.front()}, 30, 0);
            CHECK(u.ns.count == 30);
            CHECK(u.ns.min > 0);
            if (u.shootdowns_per_op) CHECK(*u.shootdowns_per_op >= 0);
            else CHECK_FALSE(u.shootdowns_unknown.empty());
        }
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
}

TEST_CASE("the floors: a fault costs more than a system call, and is one fault", "[os][address_space]") {
    const auto floors = measure_floors(200, 0);
    REQUIRE(floors.size() == 4);
    CHECK(floors[0].id == "syscall_getppid");
    CHECK(floors[3].id == "first_touch_fault");
    CHECK(floors[3].ns.median > floors[0].ns.median);  // a trap plus a zeroed page against a trap
    if (floors[3].kernel_faults_per_op) CHECK(*floors[3].kernel_faults_per_op >= 0.99);
}
