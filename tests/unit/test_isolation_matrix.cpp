// isolation_matrix's verdict rules on recorded outcomes (demos/isolation_matrix/verdicts.hpp).
#include "isolation_matrix/verdicts.hpp"

#include "sound.hpp"

#include <catch2/catch.hpp>

#include <cerrno>

using namespace proclab;
using namespace proclab::isolation_matrix;
using proclab::test::sound;

namespace {
Relationship relationship(std::string_view id) {
    for (const auto& r : relationships(true))
        if (r.id == id) return r;
    return {};
}

// Every action refused with EPERM, or allowed, as recorded on the development machine.
RelationshipRun recorded(std::string_view id, bool allow_memory, bool allow_control) {
    RelationshipRun r;
    r.relationship = relationship(id);
    r.measured = true;
    for (Action a : all_actions()) {
        const bool allowed = reaches_memory(a) ? allow_memory : allow_control;
        r.attempts[static_cast<std::size_t>(a)] =
            Attempt{allowed ? Outcome::allowed : Outcome::refused, allowed ? 0 : EPERM, ""};
    }
    return r;
}

RunawayRun runaway(bool alive, double during, bool capped = false, RunawayKind kind = RunawayKind::memory_rlimit) {
    RunawayRun r;
    r.kind = kind;
    r.what = "memory: test";
    r.measured = true;
    r.contained = !capped;
    r.hard_cap_hit = capped;
    r.siblings_alive = alive;
    r.before.rate = {100, 100};
    r.during.rate = {during, 100};
    r.after.rate = {100, 100};
    return r;
}
}  // namespace

TEST_CASE("P3 from the matrix: refused without the right, allowed with it", "[isolation_matrix]") {
    // Recorded as root here: the same user and root read; non-dumpable, another user and a user
    // namespace were refused.
    const std::vector<RelationshipRun> root_run{
        recorded("same_user", true, true), recorded("same_user_nondumpable", false, true),
        recorded("other_user", false, false), recorded("root_prober", true, true),
        recorded("user_namespace", false, true)};
    const auto v = sound(decide_p3(root_run));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("(same_user_nondumpable, other_user, user_namespace): all 15 refused"));
    // Memory reached without the right: direct evidence against the claim.
    auto broken = root_run;
    broken[2] = recorded("other_user", true, false);
    CHECK(sound(decide_p3(broken)).verdict == Verdict::refuted);
    // Yama ptrace_scope 3: nobody reads anyone.
    const std::vector<RelationshipRun> locked{recorded("same_user", false, true),
                                              recorded("same_user_nondumpable", false, true)};
    CHECK(sound(decide_p3(locked)).verdict == Verdict::confirmed);
    // Nothing without the right could be set up: no evidence.
    CHECK(sound(decide_p3({recorded("same_user", true, true)})).verdict == Verdict::not_measured);
    RelationshipRun unmeasured = recorded("other_user", false, false);
    unmeasured.measured = false;
    CHECK(sound(decide_p3({unmeasured})).verdict == Verdict::not_measured);
}

TEST_CASE("P1 from the matrix and the runaways", "[isolation_matrix]") {
    const std::vector<RelationshipRun> matrix{recorded("same_user", true, true), recorded("other_user", false, false)};
    const std::vector<RunawayRun> contained{runaway(true, 70)};
    // The same user may signal and trace: programs are isolated from other users only.
    const auto v = sound(decide_p1(matrix, contained));
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("the 1 runaway") ||
                                    Catch::Contains("1 of 1 runaways a limit can stop were stopped by it"));
    CHECK_THAT(v.reason_text(), Catch::Contains("gave up at most 30%") && Catch::Contains("SIGTERM (EPERM)"));
    // A sibling died: refuted. A sibling that stalled in one window may have met other load: nuanced.
    CHECK(sound(decide_p1(matrix, {runaway(false, 0)})).verdict == Verdict::refuted);
    const auto stalled = sound(decide_p1({recorded("other_user", false, false)}, {runaway(true, 0)}));
    CHECK(stalled.verdict == Verdict::nuanced);
    CHECK_THAT(stalled.reason_text(), Catch::Contains("no progress"));
    // Only the demo's own cap stopped it: the mechanism did not act.
    CHECK_THAT(sound(decide_p1({recorded("other_user", false, false)}, {runaway(true, 60, true)})).reason_text(),
               Catch::Contains("own cap"));
    // Both at once (a loaded machine stalls a sibling while the cap ends another runaway): the
    // sentence names both, not only the first.
    const auto both =
        sound(decide_p1({recorded("other_user", false, false)}, {runaway(true, 0), runaway(true, 60, true)}));
    CHECK(both.verdict == Verdict::nuanced);
    CHECK_THAT(both.reason_text(), Catch::Contains("no progress") && Catch::Contains("only the demo's own cap ended"));
    // Another user's unprivileged process signalled the target: refuted.
    CHECK(sound(decide_p1({recorded("other_user", false, true)}, contained)).verdict == Verdict::refuted);
    // Contained, other users shut out, no same-user row: confirmed.
    CHECK(sound(decide_p1({recorded("other_user", false, false)}, contained)).verdict == Verdict::confirmed);
    CHECK(sound(decide_p1({}, {})).verdict == Verdict::not_measured);
}

TEST_CASE("P1's sentence counts only the runaways a limit can stop: a CPU hog under a quota is held, not stopped",
          "[isolation_matrix]") {
    // Recorded: four runaways, the CPU hog (then under no limit) costing its siblings 52-57%. The old summary said "4
    // of 4 runaways stopped by their limit, siblings working throughout". A hog under a cgroup quota is held to a
    // share.
    const std::vector<RunawayRun> four{runaway(true, 78), runaway(true, 97), runaway(true, 99),
                                       runaway(true, 45, false, RunawayKind::cpu_cgroup)};
    const auto v = sound(decide_p1({recorded("other_user", false, false)}, four));
    CHECK(v.verdict == Verdict::confirmed);
    CHECK_THAT(v.summary_text(),
               Catch::Contains("all 3 runaways stopped by their limit") && Catch::Contains("worst loss 55%"));
    CHECK_THAT(v.reason_text(), !Catch::Contains("throughout") && !Catch::Contains("4 of 4"));
}

TEST_CASE("Each relationship's right is read from the kernel's rules with the machine's Yama scope",
          "[isolation_matrix]") {
    auto entitled = [](std::optional<int> yama) {
        std::vector<std::string> ids;
        for (const auto& r : relationships(true, yama))
            if (r.entitled) ids.push_back(r.id);
        return ids;
    };
    CHECK(entitled(std::nullopt) == std::vector<std::string>{"same_user", "root_prober", "pid_namespace"});
    // Scope 1: the same-user prober is the target's sibling, not its ancestor.
    CHECK(entitled(1) == std::vector<std::string>{"root_prober", "pid_namespace"});
    CHECK(entitled(2) == std::vector<std::string>{"root_prober", "pid_namespace"});
    // Scope 3: no one, root included; every relationship is one without the right.
    CHECK(entitled(3).empty());
    for (const auto& r : relationships(true, 3)) CHECK_FALSE(r.entitled_why.empty());
}

TEST_CASE("'Would be refuted by' names only what the run tried", "[isolation_matrix]") {
    // As nobody: no other-user relationship could be set up.
    RelationshipRun other;
    other.relationship = relationship("other_user");
    other.why_not = "needs root: only root can run a process as another user";
    const std::vector<RelationshipRun> as_nobody{recorded("same_user", true, true),
                                                 recorded("same_user_nondumpable", false, true), other};
    const auto p3 = decide_p3(as_nobody);
    CHECK_THAT(p3.refuted_by, Catch::Contains("this run set up (same_user_nondumpable)") &&
                                  Catch::Contains("not set up here: other_user"));
    const auto p1 = decide_p1(as_nobody, {runaway(true, 70)});
    CHECK_THAT(p1.refuted_by, Catch::Contains("another user's process was not tried here: needs root"));
    // As root, both are tried and named as the rule states them.
    const auto root_p1 = decide_p1({recorded("other_user", false, false)}, {runaway(true, 70)});
    CHECK(root_p1.refuted_by == kP1Rule.refuted_by);
}

TEST_CASE("A cgroup's own count decides whether its controller acted", "[isolation_matrix]") {
    // pids.max: a fork refused with EAGAIN that pids.events counted is the controller's doing.
    RunawayRun counted_refusal = runaway(true, 80, false, RunawayKind::processes_cgroup);
    counted_refusal.stopped_by = "fork: EAGAIN after 15 processes";
    weigh_controller_count(counted_refusal, "pids.events max", 1);
    CHECK(counted_refusal.stopped_by_limit());
    CHECK(counted_refusal.stopped_by == "fork: EAGAIN after 15 processes (pids.events max 1)");
    // The same refusal uncounted (threads-max, say) is not the controller's: not measured, with why.
    RunawayRun uncounted = runaway(true, 80, false, RunawayKind::processes_cgroup);
    uncounted.stopped_by = "fork: EAGAIN after 15 processes";
    weigh_controller_count(uncounted, "pids.events max", 0);
    CHECK_FALSE(uncounted.measured);
    CHECK_THAT(uncounted.why_not, Catch::Contains("pids.events max counted nothing"));
    // A SIGKILL that memory.events never counted came from elsewhere.
    RunawayRun killed = runaway(true, 80, false, RunawayKind::memory_cgroup);
    weigh_controller_count(killed, "memory.events oom_kill", 0);
    CHECK_FALSE(killed.measured);
    // A hog the quota never throttled was not held by it; one it throttled was.
    RunawayRun idle_quota = runaway(true, 45, false, RunawayKind::cpu_cgroup);
    weigh_controller_count(idle_quota, "cpu.stat nr_throttled", 0);
    CHECK(idle_quota.measured);
    CHECK_FALSE(idle_quota.contained);
    RunawayRun held = runaway(true, 45, false, RunawayKind::cpu_cgroup);
    weigh_controller_count(held, "cpu.stat nr_throttled", 12);
    CHECK(held.contained);
    CHECK(held.controller_count == 12);
}
