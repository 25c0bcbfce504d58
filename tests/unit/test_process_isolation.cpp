// The verdict rules of demos/process_isolation/verdicts.cpp.
#include "process_isolation/verdicts.hpp"

#include "sound.hpp"

#include <catch2/catch.hpp>

using namespace proclab;
using namespace proclab::process_isolation;
using proclab::test::sound;

namespace {
P1Evidence isolated_p1() {
    P1Evidence e;
    e.processes = 4;
    e.distinct_pids = 4;
    e.children = 3;
    e.children_reporting_parent = 3;
    e.children_kept_own_global = 3;
    e.crashes = 3;
    e.crashes_by_fault = 3;
    e.crash_status = "killed by SIGSEGV (Segmentation fault)";
    e.crash_signal = "SIGSEGV";
    e.siblings = 2;
    e.siblings_alive_after_crash = 2;
    return e;
}

P3Evidence isolated_p3() {
    P3Evidence e;
    e.fork_copies_isolated = true;
    e.pointers_handed = 2;
    e.pointers_faulted = 2;
    e.unprivileged_attempts = 3;
    e.unprivileged_reader = "an unprivileged uid";
    e.shared_memory_works = true;
    return e;
}
}  // namespace

TEST_CASE("P1 is confirmed by distinct pids and a contained crash", "[process_isolation]") {
    const auto v = sound(decide_p1(isolated_p1()));
    CHECK(v.claim == "P1");
    CHECK(v.verdict == Verdict::confirmed);
    CHECK(v.guarantee);
    CHECK_THAT(
        v.reason_text(),
        Catch::Contains("4 processes alive at once, 4 distinct pids; all 3 children") &&
            Catch::Contains("all 3 children that wrote through a null pointer died of SIGSEGV, and both siblings"));
}

TEST_CASE("P1 is refuted when a sibling had ended after a crash, or pids repeat", "[process_isolation]") {
    auto spread = isolated_p1();
    spread.siblings_alive_after_crash = 1;
    spread.lost_sibling_status = "killed by SIGKILL (Killed)";
    spread.lost_after_crash = 2;
    const auto v = sound(decide_p1(spread));
    CHECK(v.verdict == Verdict::refuted);
    CHECK_THAT(v.reason_text(), Catch::Contains("after crash 2 it had ended (killed by SIGKILL (Killed))") &&
                                    Catch::Contains("1 of 2 siblings answered"));
    // Silent but alive (stopped, or starved past the deadline) is no evidence either way.
    auto silent = isolated_p1();
    silent.siblings_alive_after_crash = 1;
    silent.siblings_unresponsive = 1;
    const auto s = sound(decide_p1(silent));
    CHECK(s.verdict == Verdict::not_measured);
    CHECK_THAT(s.reason_text(), Catch::Contains("1 neither answered nor ended within 10 s"));
    auto shared = isolated_p1();
    shared.distinct_pids = 3;
    CHECK(sound(decide_p1(shared)).verdict == Verdict::refuted);
}

TEST_CASE("P1 is not measured when the crash was not the fault's own signal", "[process_isolation]") {
    // A crasher that hung and was killed by the demo's deadline: SIGKILL, not the fault.
    auto e = isolated_p1();
    e.crash_signal.clear();
    e.crashes_by_fault = 0;
    e.crash_status = "killed by SIGKILL (Killed)";
    e.crash_killed_by_demo = true;
    const auto v = sound(decide_p1(e));
    CHECK(v.verdict == Verdict::not_measured);
    CHECK_THAT(v.reason_text(),
               Catch::Contains("SIGKILL") && Catch::Contains("the demo killed it") && !Catch::Contains("SIGSEGV"));
}

TEST_CASE("P1 is nuanced when a child names another parent", "[process_isolation]") {
    auto e = isolated_p1();
    e.children_reporting_parent = 2;
    CHECK(sound(decide_p1(e)).verdict == Verdict::nuanced);
}

TEST_CASE("P3 is confirmed when nothing crossed and nobody held the privilege", "[process_isolation]") {
    const auto v = sound(decide_p3(isolated_p3()));
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.reason_text(), Catch::Contains("all 3 refused"));
}

TEST_CASE("P3 is nuanced when privilege let the kernel read across", "[process_isolation]") {
    auto e = isolated_p3();
    e.privileged_attempts = 3;
    e.privileged_allowed = 3;
    e.privileged_reader = "root with CAP_SYS_PTRACE";
    const auto v = sound(decide_p3(e));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("all 3 reads by root with CAP_SYS_PTRACE were allowed"));
}

TEST_CASE("P3's words name only the readers the run had: none without the privilege is said, not counted as 0 of 0",
          "[process_isolation]") {
    auto e = isolated_p3();
    e.unprivileged_attempts = 0;
    e.unprivileged_reader.clear();
    e.privileged_attempts = 3;
    e.privileged_allowed = 3;
    e.privileged_reader = "root with CAP_SYS_PTRACE";
    const auto v = sound(decide_p3(e));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(),
               Catch::Contains("no kernel read could be tried without the privilege") && !Catch::Contains("0 of 0"));
    CHECK_THAT(v.refuted_by, !Catch::Contains("allowed without") && Catch::Contains("was not"));
    // With one, the rule's own words stand.
    CHECK(sound(decide_p3(isolated_p3())).refuted_by == kP3Rule.refuted_by);
}

TEST_CASE(
    "P3 where no reader held ptrace rights (Yama ptrace_scope 3): confirmed, and that no reader held them is said",
    "[process_isolation]") {
    auto e = isolated_p3();
    e.unprivileged_attempts = 9;  // root too: at scope 3 the kernel grants no one
    e.privileged_attempts = 0;
    e.privileged_allowed = 0;
    e.privileged_reader.clear();
    const auto v = sound(decide_p3(e));
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.summary_text(), Catch::Contains("no reader here held ptrace rights") && !Catch::Contains("0 of 0"));
}

TEST_CASE("P3 is refuted by any unprivileged read, a shared write or a pointer that reached across",
          "[process_isolation]") {
    auto read = isolated_p3();
    read.unprivileged_allowed = 1;
    const auto v = sound(decide_p3(read));
    CHECK(v.verdict == Verdict::refuted);
    CHECK_THAT(v.reason_text(), Catch::Contains("1 of 3 kernel reads"));
    auto write = isolated_p3();
    write.fork_copies_isolated = false;
    CHECK(sound(decide_p3(write)).verdict == Verdict::refuted);
    auto pointer = isolated_p3();
    pointer.pointers_faulted = 1;
    pointer.pointers_reached_sender = 1;
    CHECK(sound(decide_p3(pointer)).verdict == Verdict::refuted);
}
