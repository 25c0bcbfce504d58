// The verdict rules of demos/process_isolation.cpp, compiled in without its main().
#define PROCLAB_NO_MAIN
#include "../../demos/process_isolation.cpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::process_isolation;

namespace {
P1Evidence isolated_p1() {
    P1Evidence e;
    e.processes = 4;
    e.distinct_pids = 4;
    e.every_ppid_is_parent = true;
    e.every_child_kept_own_global = true;
    e.crash_provoked = true;
    e.crash_outcome = "killed by SIGSEGV";
    e.siblings = 2;
    e.siblings_alive_after_crash = 2;
    return e;
}

P3Evidence isolated_p3() {
    P3Evidence e;
    e.fork_copies_isolated = true;
    e.pointer_outcome = "global pointer faulted";
    e.unprivileged_attempts = 3;
    e.unprivileged_reader = "an unprivileged uid";
    e.shared_memory_works = true;
    return e;
}
}  // namespace

TEST_CASE("P1 is confirmed by distinct pids and a contained crash", "[process_isolation]") {
    const auto v = decide_p1(isolated_p1());
    CHECK(v.claim == "P1");
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason, Catch::Contains("4 distinct pids"));
}

TEST_CASE("P1 is refuted when a crash takes a sibling down or pids repeat", "[process_isolation]") {
    auto spread = isolated_p1();
    spread.siblings_alive_after_crash = 1;
    CHECK(decide_p1(spread).verdict == Verdict::refuted);
    auto shared = isolated_p1();
    shared.distinct_pids = 3;
    CHECK(decide_p1(shared).verdict == Verdict::refuted);
}

TEST_CASE("P1 is not measured when the crash could not be provoked", "[process_isolation]") {
    auto e = isolated_p1();
    e.crash_provoked = false;
    e.crash_outcome = "exit 0";
    CHECK(decide_p1(e).verdict == Verdict::not_measured);
}

TEST_CASE("P3 is confirmed when nothing crossed and nobody held the privilege", "[process_isolation]") {
    CHECK(decide_p3(isolated_p3()).verdict == Verdict::confirmed);
}

TEST_CASE("P3 is nuanced when privilege let the kernel read across", "[process_isolation]") {
    auto e = isolated_p3();
    e.privileged_attempts = 3;
    e.privileged_allowed = 3;
    e.privileged_reader = "root with CAP_SYS_PTRACE";
    const auto v = decide_p3(e);
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason, Catch::Contains("root with CAP_SYS_PTRACE"));
}

TEST_CASE("P3 is refuted by any unprivileged read, a shared write or a pointer that reached across", "[process_isolation]") {
    auto read = isolated_p3();
    read.unprivileged_allowed = 1;
    CHECK(decide_p3(read).verdict == Verdict::refuted);
    auto write = isolated_p3();
    write.fork_copies_isolated = false;
    CHECK(decide_p3(write).verdict == Verdict::refuted);
    auto pointer = isolated_p3();
    pointer.pointer_reached_other = true;
    CHECK(decide_p3(pointer).verdict == Verdict::refuted);
}
