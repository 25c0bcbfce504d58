// process_isolation's crash containment, for real: two siblings answer pings while children write
// through a null pointer beside them. A sibling killed during the loop is found ended (reaped, its
// status in the evidence) and P1 is refuted; left alone, both answer and nothing refutes.
#include "process_isolation/experiments.hpp"
#include "process_isolation/verdicts.hpp"

#include "support.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <string>

using namespace proclab;
using namespace proclab::process_isolation;

TEST_CASE("a sibling killed during the crash loop is found ended and refutes P1; left alone both answer",
          "[os][process_isolation]") {
    SECTION("left alone") {
        P1Evidence p1;
        const auto observed = crash_containment(3, p1);
        CHECK(observed.rows.size() == 3);
        CHECK(p1.crashes_by_fault == 3);
        CHECK(p1.siblings_alive_after_crash == 2);
        CHECK(p1.lost_sibling_status.empty());
        CHECK(decide_p1(p1).verdict != Verdict::refuted);
    }
    SECTION("one sibling killed after the second crash") {
        P1Evidence p1;
        crash_containment(3, p1, [](int crash, const std::vector<pid_t>& siblings) {
            if (crash == 2) ::kill(siblings.front(), SIGKILL);
        });
        CHECK(p1.siblings_alive_after_crash == 1);
        CHECK(p1.lost_after_crash == 2);
        CHECK(p1.lost_sibling_status.find("SIGKILL") != std::string::npos);
        const auto v = decide_p1(p1);
        CHECK(v.verdict == Verdict::refuted);
        CHECK_THAT(v.reason_text(), Catch::Contains("after crash 2 it had ended (killed by SIGKILL"));
    }
    CHECK(test::leftover_children() == 0);
}
