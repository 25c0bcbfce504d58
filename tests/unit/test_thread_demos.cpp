// The verdict rules of demos/thread_memory.cpp and demos/thread_local_storage.cpp.
#define PROCLAB_NO_MAIN
#include "../../demos/thread_local_storage.cpp"
#include "../../demos/thread_memory.cpp"

#include "sound.hpp"

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
    e.independence = {38e6, 57e6, 50, 50, 57e6};
    e.sharing = {true, true, "0x1", "0x2"};
    e.counting_threads = 2;
    e.counting = {{"racy", 200, 150, 1}, {"atomic", 200, 200, 2}, {"mutex", 200, 200, 3}};
    e.local = {"0x7f", "0x7e-0x7f", 1, 2};
    e.crash.status = ExitStatus{SIGSEGV};  // a raw wait status: killed by signal 11
    e.crash.stream_ended = true;
    e.crash.beating_before = 4;
    return e;
}
using test::sound;
}  // namespace

TEST_CASE("T3 is nuanced when one thread's fault ends the process, refuted when threads share an id or stop",
          "[thread_memory]") {
    auto e = memory_evidence();
    REQUIRE(e.crash.died_of_fault());
    const auto v = sound(thread_memory::decide_t3(e));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(),
               Catch::Contains("finished 50 of its 50 parts") && Catch::Contains("a SIGSEGV in one thread ended"));
    // A worker that made no progress while a sibling was blocked: blocking one thread stopped another.
    auto stopped = memory_evidence();
    stopped.independence.chunks_while_blocked = 0;
    CHECK(sound(thread_memory::decide_t3(stopped)).verdict == Verdict::refuted);
    // Progress without finishing (a loaded machine) is still progress.
    auto slow = memory_evidence();
    slow.independence.chunks_while_blocked = 7;
    CHECK(sound(thread_memory::decide_t3(slow)).verdict == Verdict::nuanced);
    // Any other end of the child is not the fault: a SIGKILL from the demo's deadline, say.
    auto killed = memory_evidence();
    killed.crash.status = ExitStatus{SIGKILL};
    killed.crash.killed_by_demo = true;
    const auto nm = sound(thread_memory::decide_t3(killed));
    CHECK(nm.verdict == Verdict::not_measured);
    CHECK_THAT(nm.reason_text(), !Catch::Contains("SIGSEGV"));
    e.distinct_tids = 3;
    CHECK(sound(thread_memory::decide_t3(e)).verdict == Verdict::refuted);
}

TEST_CASE("T4 is nuanced by lost unsynchronised updates, refuted if synchronised ones are lost", "[thread_memory]") {
    auto e = memory_evidence();
    const auto v = sound(thread_memory::decide_t4(e));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("(50 lost, 25%)"));
    CHECK_THAT(v.summary_text(), Catch::Contains("fetch_add 0, a mutex 0"));
    e.counting[0].final_count = 200;
    CHECK(sound(thread_memory::decide_t4(e)).verdict == Verdict::confirmed);
    e.counting[1].final_count = 199;
    const auto lost = sound(thread_memory::decide_t4(e));
    CHECK(lost.verdict == Verdict::refuted);
    CHECK_THAT(lost.summary_text(), Catch::Contains("fetch_add 1"));
    e = memory_evidence();
    e.sharing.heap_seen = false;
    CHECK(sound(thread_memory::decide_t4(e)).verdict == Verdict::refuted);
    e = memory_evidence();
    e.counting.clear();  // the counting threads could not be started
    CHECK(sound(thread_memory::decide_t4(e)).verdict == Verdict::not_measured);
}

TEST_CASE("T7 is nuanced when another thread reaches a local through its address", "[thread_memory]") {
    auto e = memory_evidence();
    CHECK(sound(thread_memory::decide_t7(e)).verdict == Verdict::nuanced);
    e.local.read_by_other = 0;
    CHECK(sound(thread_memory::decide_t7(e)).verdict == Verdict::confirmed);
    e.sharing.global_seen = false;
    CHECK(sound(thread_memory::decide_t7(e)).verdict == Verdict::refuted);
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
    using thread_local_storage::decide_t5;
    const std::vector<thread_local_storage::Cost> costs{
        {"access_global", "plain global", summarize(std::vector<double>{1.7}), summarize(std::vector<double>{0})},
        {"access_thread_local", "thread_local", summarize(std::vector<double>{1.8}),
         summarize(std::vector<double>{0.1})}};
    auto r = instances_evidence();
    const auto nuanced = test::sound(decide_t5(r, costs));
    CHECK(nuanced.verdict == Verdict::nuanced);
    CHECK_THAT(nuanced.reason_text(),
               Catch::Contains("all 4 kept their own value") && Catch::Contains("read the owner's value 777"));
    // Both figures include the call and the increment, and the summary says so (not "an access").
    CHECK_THAT(nuanced.summary_text(),
               Catch::Contains("a call and an increment through it: 1.8 ns for it, 1.7 ns for a plain global"));
    r.read_through_pointer = 0;
    const auto confirmed = test::sound(decide_t5(r, costs));
    CHECK(confirmed.verdict == Verdict::confirmed);
    CHECK_THAT(confirmed.summary_text(), !Catch::Contains("through its address"));
    r.threads[1].address = r.threads[0].address;
    CHECK(test::sound(decide_t5(r, costs)).verdict == Verdict::refuted);
    r = instances_evidence();
    r.destroyed_after_exit = 3;
    const auto refuted = test::sound(decide_t5(r, costs));
    CHECK(refuted.verdict == Verdict::refuted);
    CHECK_THAT(refuted.reason_text(), Catch::Contains("3 after they exited"));
}
