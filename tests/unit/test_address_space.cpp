// address_space's pure parts (demos/address_space/experiments.hpp): the TLB line of
// /proc/interrupts and the figures of a fault point.
#include "address_space/experiments.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::address_space;

TEST_CASE("address_space: the TLB shootdowns per CPU from /proc/interrupts", "[address_space]") {
    const std::string text =
        "           CPU0       CPU1       \n"
        "  0:         44          0   IO-APIC    2-edge      timer\n"
        "LOC:    1523890    1377412   Local timer interrupts\n"
        "TLB:       8123       9001   TLB shootdowns\n"
        "TRM:          0          0   Thermal event interrupts\n";
    CHECK(parse_tlb_interrupts(text) == std::vector<std::int64_t>{8123, 9001});
    CHECK(parse_tlb_interrupts("LOC: 1 2 Local timer interrupts\n").empty());  // Arm, or no TLB line
    CHECK(parse_tlb_interrupts("").empty());
}

TEST_CASE("address_space: a fault point's rates come from each task's pages and time", "[address_space]") {
    FaultPoint p;
    p.tasks = 2;
    p.per_task = {TaskFaults{1000, 1e9, 1000, 1002}, TaskFaults{500, 1e9, 510, -1}};
    CHECK(p.per_task[0].per_s() == Approx(1000));
    CHECK(p.least_per_task() == Approx(500));
    CHECK(p.total_per_s() == Approx(1500));
    CHECK(p.median_per_task() == Approx(750));
    // perf's count where there is one, getrusage's otherwise: (1002 + 510) / 1500.
    REQUIRE(p.faults_per_page());
    CHECK(*p.faults_per_page() == Approx(1512.0 / 1500));
    p.per_task[1].minor_faults = -1;  // neither count for a task: unknown
    CHECK_FALSE(p.faults_per_page());
    CHECK(FaultPoint{}.total_per_s() == 0);
    CHECK_FALSE(FaultPoint{}.faults_per_page());
}
