// isolation_matrix's experiments against the real kernel: what holds on every Linux machine.
#include "isolation_matrix/matrix.hpp"
#include "isolation_matrix/runaway.hpp"
#include "isolation_matrix/verdicts.hpp"

#include "proclab/child.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace proclab;
using namespace proclab::isolation_matrix;

namespace {
Relationship find_relationship(std::string_view id) {
    for (const auto& r : relationships(::geteuid() == 0))
        if (r.id == id) return r;
    FAIL("no relationship " << id);
    return {};
}
}  // namespace

// [differs-under-qemu-user]: qemu-user does not implement process_vm_readv: ENOSYS, not the kernel's EPERM; the arm64
// preset leaves it out.
TEST_CASE("A prober without ptrace rights is refused the memory of a non-dumpable target",
          "[isolation][processes][differs-under-qemu-user]") {
    const auto run = run_relationship(find_relationship("same_user_nondumpable"), 90);
    INFO(run.why_not);
    REQUIRE(run.measured);
    for (Action a : all_actions()) {
        if (!reaches_memory(a)) continue;
        INFO(name(a));
        CHECK(run.at(a).outcome == Outcome::refused);
    }
    CHECK(errno_name(run.at(Action::read_vm).err) == "EPERM");
    // The same user may still see and signal it: dumpable guards memory, not the process.
    CHECK(run.at(Action::see_signal0).outcome == Outcome::allowed);
}

TEST_CASE("The same user may read a dumpable target's memory, and reads what is there", "[isolation][processes]") {
    const auto run = run_relationship(find_relationship("same_user"), 91);
    INFO(run.why_not);
    REQUIRE(run.measured);
    const auto& read = run.at(Action::read_vm);
    if (read.outcome == Outcome::refused) {
        WARN("process_vm_readv refused to the same user here (Yama ptrace_scope >= 1?): " << errno_name(read.err));
        return;
    }
    CHECK_THAT(read.detail, Catch::Contains("proclab secret of pid"));
    CHECK(run.sigterm_arrived);  // the handler saw the prober's SIGTERM, and the target lived on
}

// [differs-under-qemu-user]: qemu-user aborts ("cpu_exec: assertion failed: (cpu == current_cpu)") when the runaways
// fork beside spinning threads; the arm64 preset leaves it out.
TEST_CASE(
    "Runaways meet their limits: RLIMIT_NPROC stops a fork loop, RLIMIT_NOFILE the opens, RLIMIT_AS the memory, "
    "RLIMIT_CPU a hog",
    "[isolation][processes][differs-under-qemu-user]") {
    RunawayOptions o;
    o.window_s = 0.02;
    o.cpus = 1;
    const auto runs = run_runaways(o);
    for (const auto& r : runs) {
        INFO(r.what << ": " << r.why_not << " " << r.stopped_by);
        CHECK(r.siblings_alive);
        if (r.kind == RunawayKind::processes || r.kind == RunawayKind::files || r.kind == RunawayKind::memory_rlimit ||
            r.kind == RunawayKind::cpu) {
            REQUIRE(r.measured);
            CHECK(r.contained);
            CHECK_FALSE(r.hard_cap_hit);
        }
    }
    const auto hog =
        std::find_if(runs.begin(), runs.end(), [](const RunawayRun& r) { return r.kind == RunawayKind::cpu; });
    CHECK_THAT(hog->stopped_by, Catch::Contains("SIGXCPU") || Catch::Contains("SIGKILL"));
    const auto nproc =
        std::find_if(runs.begin(), runs.end(), [](const RunawayRun& r) { return r.kind == RunawayKind::processes; });
    CHECK_THAT(nproc->stopped_by, Catch::Contains("EAGAIN"));
    const auto files =
        std::find_if(runs.begin(), runs.end(), [](const RunawayRun& r) { return r.kind == RunawayKind::files; });
    CHECK_THAT(files->stopped_by, Catch::Contains("EMFILE"));
}

TEST_CASE("A limit set beyond what the runaway reaches fails: the demo's cap stops it, and P1 says so",
          "[isolation][processes]") {
    RunawayOptions o;
    o.window_s = 0.02;
    o.cpus = 1;
    o.memory_cap_bytes = std::size_t(32) << 20;
    o.process_cap = 16;
    o.file_cap = 256;
    o.limits_beyond_caps = true;
    const auto runs = run_runaways(o);
    int capped = 0;
    for (const auto& r : runs) {
        INFO(r.what << ": " << r.why_not << " " << r.stopped_by);
        CHECK(r.siblings_alive);
        if (!r.measured || !r.stoppable()) continue;
        CHECK(r.hard_cap_hit);
        CHECK_FALSE(r.stopped_by_limit());
        ++capped;
    }
    CHECK(capped >= 4);  // memory, processes, files and the CPU hog (its RLIMIT_CPU 60 s outlasts the demo's 5 s)
    const auto v = decide_p1({}, runs);
    CHECK(v.verdict == Verdict::nuanced);
    CHECK_THAT(v.reason_text(), Catch::Contains("only the demo's own cap ended"));
}
