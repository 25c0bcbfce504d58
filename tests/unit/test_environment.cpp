#include "proclab/environment.hpp"
#include "proclab/serialize.hpp"

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
    for (const auto& key : {"cpu_model", "hypervisor", "sched_base_slice_ns", "sched_autogroup", "euid",
                            "cap_sys_ptrace", "yama_ptrace_scope", "aslr", "affinity_cpus", "online_cpus"})
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
    const auto none =
        ptrace_rights({.cap_sys_ptrace = true, .same_uid = true, .prober_is_ancestor = true, .yama_scope = 3});
    CHECK_FALSE(none.granted);
    CHECK(none.why == "Yama ptrace_scope 3: no process may attach");
}

TEST_CASE("the environment's typed facts travel in the JSON, and are read from the text of older files",
          "[environment][schema]") {
    Environment env;
    env.online_cpus = 4;
    env.affinity_cpus = {0, 2, 3};
    env.euid = 65534;
    env.cap_sys_ptrace = false;
    env.yama_ptrace_scope = 2;
    env.cpu_quota_cpus = 1.5;
    env.in_container = true;
    env.facts = {{"online_cpus", "online CPUs", "4", "sysconf", "", ""},
                 {"affinity_cpus", "CPUs allowed (affinity)", "0,2-3 (3 CPUs)", "sched_getaffinity(2)", "", ""},
                 {"euid", "effective uid", "65534", "geteuid(2)", "", ""},
                 {"cap_sys_ptrace", "CAP_SYS_PTRACE (effective)", "no", "/proc/self/status CapEff", "", ""},
                 {"yama_ptrace_scope", "Yama ptrace_scope", "2", "/proc/sys/kernel/yama/ptrace_scope", "", ""},
                 {"cpu_quota", "CPU quota (cgroup)",
                  "1.50 CPUs (/sys/fs/cgroup/cpu.max: 150000 100000); the CPUs' capacity is 1.50", "", "", ""},
                 {"container", "container", "yes (/.dockerenv exists)", "/.dockerenv", "", ""}};
    const Json j = env;
    CHECK(j.at("affinity_cpus").at("typed") == Json::array({0, 2, 3}));
    CHECK(j.at("cpu_quota").at("typed") == 1.5);
    CHECK(j.at("container").at("typed") == true);
    auto check = [](const Environment& back) {
        CHECK(back.online_cpus == 4);
        CHECK(back.affinity_cpus == std::vector<int>{0, 2, 3});
        CHECK(back.euid == 65534);
        CHECK_FALSE(back.cap_sys_ptrace);
        CHECK(back.yama_ptrace_scope == 2);
        CHECK(back.cpu_quota_cpus == 1.5);
        CHECK(back.in_container);
        CHECK(back.cpu_capacity() == 1.5);
    };
    check(j.get<Environment>());
    // Schema 3 and older: the text only, read as the probe wrote it.
    Json old = j;
    for (auto& [key, fact] : old.items()) fact.erase("typed");
    check(old.get<Environment>());
    // No quota, and no Yama: nothing set.
    old["cpu_quota"]["value"] = "none (/sys/fs/cgroup/cpu and above)";
    old["yama_ptrace_scope"] = Json{{"label", "Yama ptrace_scope"}, {"value", nullptr}, {"unknown", "no Yama"}};
    const auto none = old.get<Environment>();
    CHECK_FALSE(none.cpu_quota_cpus);
    CHECK_FALSE(none.yama_ptrace_scope);
    // A typed value of the wrong kind is named, not a crash.
    Json wrong = j;
    wrong["online_cpus"]["typed"] = "four";
    CHECK_THROWS_WITH(wrong.get<Environment>(), Catch::Contains("online_cpus"));
}
