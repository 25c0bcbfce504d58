// The verdict rules of demos/thread_memory.cpp and demos/thread_local_storage.cpp.
#define PROCLAB_NO_MAIN
#include "../../demos/thread_local_storage.cpp"
#include "../../demos/thread_memory.cpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <sys/wait.h>

using namespace proclab;

namespace {
thread_memory::Evidence memory_evidence() {
    thread_memory::Evidence e;
    e.threads = 4;
    e.distinct_tids = 4;
    e.stacks_disjoint = true;
    e.min_stack_distance = 8 << 20;
    e.independence = {38e6, 57e6, true};
    e.sharing = {true, true, "0x1", "0x2"};
    e.counting_threads = 2;
    e.counting = {{"racy", 200, 150, 1}, {"atomic", 200, 200, 2}, {"mutex", 200, 200, 3}};
    e.local = {"0x7f", "0x7e-0x7f", 1, 2};
    e.crash.status = ExitStatus{SIGSEGV};  // a raw wait status: killed by signal 11
    return e;
}
}  // namespace

TEST_CASE("T3 is nuanced when one thread's crash takes the process, refuted when threads share an id", "[thread_memory]") {
    auto e = memory_evidence();
    REQUIRE(e.crash.status.signaled());
    CHECK(thread_memory::decide_t3(e).verdict == Verdict::nuanced);
    e.distinct_tids = 3;
    CHECK(thread_memory::decide_t3(e).verdict == Verdict::refuted);
}

TEST_CASE("T4 is nuanced by lost unsynchronised updates, refuted if synchronised ones are lost", "[thread_memory]") {
    auto e = memory_evidence();
    const auto v = thread_memory::decide_t4(e);
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason, Catch::Contains("50 lost"));
    e.counting[0].final_count = 200;
    CHECK(thread_memory::decide_t4(e).verdict == Verdict::confirmed);
    e.counting[1].final_count = 199;
    CHECK(thread_memory::decide_t4(e).verdict == Verdict::refuted);
    e = memory_evidence();
    e.sharing.heap_seen = false;
    CHECK(thread_memory::decide_t4(e).verdict == Verdict::refuted);
}

TEST_CASE("T7 is nuanced when another thread reaches a local through its address", "[thread_memory]") {
    auto e = memory_evidence();
    CHECK(thread_memory::decide_t7(e).verdict == Verdict::nuanced);
    e.local.read_by_other = 0;
    CHECK(thread_memory::decide_t7(e).verdict == Verdict::confirmed);
}

namespace {
thread_local_storage::Instances instances_evidence() {
    thread_local_storage::Instances r;
    for (int i = 0; i < 4; ++i) r.threads.push_back({100 + i, std::uintptr_t(0x1000 * (i + 1)), 1000 + i, 1000 + i});
    r.constructed_during = 4;
    r.destroyed_before_exit = 0;
    r.destroyed_after_exit = 4;
    r.owner_value = 777;
    r.read_through_pointer = 777;
    r.owner_address = 0x5000;
    return r;
}
}  // namespace

TEST_CASE("T5: one instance per thread, private by name only", "[thread_local_storage]") {
    auto r = instances_evidence();
    CHECK(thread_local_storage::decide_t5(r).verdict == Verdict::nuanced);
    r.read_through_pointer = 0;
    CHECK(thread_local_storage::decide_t5(r).verdict == Verdict::confirmed);
    r.threads[1].address = r.threads[0].address;
    CHECK(thread_local_storage::decide_t5(r).verdict == Verdict::refuted);
    r = instances_evidence();
    r.destroyed_after_exit = 3;
    CHECK(thread_local_storage::decide_t5(r).verdict == Verdict::refuted);
}
