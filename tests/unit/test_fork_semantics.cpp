// The verdict rule of demos/fork_semantics.cpp.
#define PROCLAB_NO_MAIN
#include "../../demos/fork_semantics.cpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::fork_semantics;

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
    e.threads = {4, 1, 0, 100, 200, 200};
    e.mutex = {true, true, 300};
    return e;
}
}  // namespace

TEST_CASE("T6 is confirmed by one thread in the child and private copies", "[fork_semantics]") {
    const auto v = decide_t6(copied());
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("a child of 1 thread"));
}

TEST_CASE("T6 is refuted if threads come along or a write crosses", "[fork_semantics]") {
    auto more = copied();
    more.threads.child_threads = 4;
    CHECK(decide_t6(more).verdict == Verdict::refuted);
    auto moved = copied();
    moved.threads.parent_tids_in_child = 1;
    CHECK(decide_t6(moved).verdict == Verdict::refuted);
    auto shared = copied();
    shared.cow[0].parent_unchanged = false;
    CHECK(decide_t6(shared).verdict == Verdict::refuted);
}
