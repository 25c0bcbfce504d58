// The verdict rule of demos/fork_semantics.cpp.
#define PROCLAB_NO_MAIN
#include "../../demos/fork_semantics.cpp"

#include "sound.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::fork_semantics;
using proclab::test::sound;

namespace {
Evidence copied() {
    Evidence e;
    CowResult c;
    c.mib = 1;
    c.pages = 256;
    c.child = {0, 256, 1000, 500000, 0x1000};
    c.parent_unchanged = true;
    c.same_address = true;
    e.cow.push_back(c);
    e.threads = {4,   1,   0,
                 100, 200, 200};  // 4 threads; the child: 1 thread, none of the others; tid 100 forked; pid = tid 200
    e.mutex = {true, true, 300};
    return e;
}
}  // namespace

TEST_CASE("T6 is confirmed by one new thread in the child, private copies and the mutex still held",
          "[fork_semantics]") {
    const auto v = sound(decide_t6(copied()));
    CHECK(v.verdict == Verdict::confirmed);
    CHECK(v.guarantee);
    CHECK_THAT(v.reason_text(),
               Catch::Contains("a child with 1 in its task list, its tid 200 (its pid 200: a new task)") &&
                   Catch::Contains("1 MiB: 0 faults reading, 256 writing 256 pages") &&
                   Catch::Contains("stayed locked in the child (its try-lock gave up after 300 ms)") &&
                   Catch::Contains("with pthread_atfork handlers the child could take it"));
    // The pid is named only where it equals the tid.
    auto other = copied();
    other.threads.child_pid = 201;
    CHECK_THAT(sound(decide_t6(other)).reason_text(), !Catch::Contains("its pid"));
}

TEST_CASE("T6 is refuted if threads come along, a thread keeps its id, a write crosses, or the held mutex is free",
          "[fork_semantics]") {
    auto more = copied();
    more.threads.child_threads = 4;
    CHECK(sound(decide_t6(more)).verdict == Verdict::refuted);
    auto moved = copied();
    moved.threads.parent_tids_in_child = 1;
    CHECK(sound(decide_t6(moved)).verdict == Verdict::refuted);
    auto same_id = copied();
    same_id.threads.child_tid = same_id.threads.forking_tid;
    CHECK(sound(decide_t6(same_id)).verdict == Verdict::refuted);
    auto shared = copied();
    shared.cow[0].parent_unchanged = false;
    CHECK(sound(decide_t6(shared)).verdict == Verdict::refuted);
    auto free_mutex = copied();
    free_mutex.mutex.locked_in_child_without = false;
    const auto v = sound(decide_t6(free_mutex));
    CHECK(v.verdict == Verdict::refuted);
    CHECK_THAT(v.reason_text(), Catch::Contains("could be taken in the child"));
}
