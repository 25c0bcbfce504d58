#include "proclab/environment.hpp"

#include <catch2/catch.hpp>

using namespace proclab;

TEST_CASE("CPU lists are written as ranges", "[environment]") {
    CHECK(format_cpu_list({}) == "");
    CHECK(format_cpu_list({0}) == "0");
    CHECK(format_cpu_list({3, 0, 1, 2}) == "0-3");
    CHECK(format_cpu_list({0, 1, 2, 3, 6, 8, 9}) == "0-3,6,8-9");
    CHECK(format_cpu_list({5, 5, 4}) == "4-5");
}

TEST_CASE("a capability bit is read from a CapEff mask", "[environment]") {
    CHECK(capability_in_mask("000001ffffffffff", 19) == true);   // root's usual full set
    CHECK(capability_in_mask("0000000000000000", 19) == false);  // an ordinary user
    CHECK(capability_in_mask("0000000000080000", 19) == true);   // CAP_SYS_PTRACE alone
    CHECK(capability_in_mask("0000000000080000", 18) == false);
    CHECK_FALSE(capability_in_mask("not-hex", 19).has_value());
    CHECK_FALSE(capability_in_mask("", 19).has_value());
}

TEST_CASE("fields are read from /proc/PID/status text", "[environment]") {
    const char* text =
        "Name:\tcat\nState:\tR (running)\nPid:\t4242\nCapEff:\t0000000000000000\n"
        "voluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t17\n";
    CHECK(status_field(text, "Pid") == "4242");
    CHECK(status_field(text, "CapEff") == "0000000000000000");
    CHECK(status_field(text, "nonvoluntary_ctxt_switches") == "17");
    CHECK(status_field(text, "voluntary_ctxt_switches") == "3");  // not confused with the longer key
    CHECK_FALSE(status_field(text, "Threads").has_value());
    CHECK_FALSE(status_field(text, "Pi").has_value());
}

TEST_CASE("the environment knows the basics and explains every unknown", "[environment]") {
    const auto env = probe_environment();
    REQUIRE(env.find("kernel_release"));
    CHECK(env.find("kernel_release")->value.has_value());
    CHECK(env.online_cpus >= 1);
    CHECK_FALSE(env.affinity_cpus.empty());
    for (const auto& key : {"cpu_model", "hypervisor", "sched_base_slice_ns", "sched_autogroup", "euid", "cap_sys_ptrace",
                            "yama_ptrace_scope", "aslr", "affinity_cpus", "online_cpus"})
        CHECK(env.find(key) != nullptr);
    for (const auto& f : env.facts) {
        INFO(f.key);
        CHECK(!f.source.empty());
        if (!f.value) CHECK(!f.unknown_reason.empty());
    }
}

TEST_CASE("A CPU quota is read from cgroup v2's cpu.max and v1's cfs quota, and none is none", "[environment]") {
    CHECK(parse_cpu_max("50000 100000\n") == Approx(0.5));
    CHECK(parse_cpu_max("200000 100000") == Approx(2.0));
    CHECK_FALSE(parse_cpu_max("max 100000\n"));
    CHECK_FALSE(parse_cpu_max("garbage"));
    CHECK(parse_cfs_quota("100000\n", "100000\n") == Approx(1.0));
    CHECK_FALSE(parse_cfs_quota("-1\n", "100000\n"));
    // A hybrid machine: v1 carries the cpu controller, v2 is mounted beside it.
    const auto hybrid = parse_proc_cgroup("9:name=systemd:/\n4:memory:/x\n2:cpu,cpuacct:/user.slice/job\n0::/\n");
    REQUIRE(hybrid.v1_cpu);
    CHECK(*hybrid.v1_cpu == "/user.slice/job");
    CHECK(hybrid.unified == std::optional<std::string>("/"));
    // cpuset is not cpu.
    CHECK_FALSE(parse_proc_cgroup("3:cpuset:/a\n0::/b\n").v1_cpu);
    const auto v2 = parse_proc_cgroup("0::/system.slice/proclab.scope\n");
    CHECK_FALSE(v2.v1_cpu);
    CHECK(v2.unified == std::optional<std::string>("/system.slice/proclab.scope"));
    // The capacity is the smaller of the allowed CPUs and the quota.
    Environment env;
    env.affinity_cpus = {0, 1, 2, 3};
    CHECK(env.cpu_capacity() == 4);
    env.cpu_quota_cpus = 1.5;
    CHECK(env.cpu_capacity() == 1.5);
    env.cpu_quota_cpus = 8;
    CHECK(env.cpu_capacity() == 4);
}

TEST_CASE("ptrace rights follow the kernel's rules and Yama's scope", "[environment]") {
    // Same uid, dumpable target: granted without Yama and at scope 0; at scope 1 only to an ancestor.
    CHECK(ptrace_rights({.same_uid = true}).granted);
    CHECK(ptrace_rights({.same_uid = true, .yama_scope = 0}).granted);
    CHECK_FALSE(ptrace_rights({.same_uid = true, .yama_scope = 1}).granted);
    CHECK(ptrace_rights({.same_uid = true, .prober_is_ancestor = true, .yama_scope = 1}).granted);
    // A non-dumpable target or another uid needs CAP_SYS_PTRACE.
    CHECK_FALSE(ptrace_rights({.same_uid = true, .target_dumpable = false}).granted);
    CHECK_FALSE(ptrace_rights({}).granted);
    CHECK(ptrace_rights({.cap_sys_ptrace = true, .target_dumpable = false}).granted);
    // Scope 2: CAP_SYS_PTRACE only; scope 3: no one, root included.
    CHECK_FALSE(ptrace_rights({.same_uid = true, .prober_is_ancestor = true, .yama_scope = 2}).granted);
    CHECK(ptrace_rights({.cap_sys_ptrace = true, .yama_scope = 2}).granted);
    const auto none = ptrace_rights({.cap_sys_ptrace = true, .same_uid = true, .prober_is_ancestor = true, .yama_scope = 3});
    CHECK_FALSE(none.granted);
    CHECK(none.why == "Yama ptrace_scope 3: no process may attach");
}
