// CPU lists and the topology read from sysfs (common/topology.cpp), on a sysfs tree written here
// in the shape of a 2-socket machine with SMT: 2 packages x 2 cores x 2 threads, one L3 per
// package, one NUMA node per package; CPUs numbered the way Linux numbers them on Intel
// (0-3 package 0 first threads, 4-7 package 1 first threads, 8-15 their SMT siblings).
#define PROCLAB_NO_MAIN
#include "../../demos/core_to_core.cpp"

#include "proclab/affinity.hpp"
#include "proclab/topology.hpp"
#include "support.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace proclab;

namespace {

void put(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text << "\n";
}

// 16 CPUs: package p = (cpu % 8) / 4, core c = cpu % 4 within the package, sibling cpu ^ 8.
std::filesystem::path two_socket_smt_tree() {
    const auto root = test::scratch_dir("proclab-sysfs-");
    for (int cpu = 0; cpu < 16; ++cpu) {
        const int package = (cpu % 8) / 4;
        const auto dir = root / "cpu" / ("cpu" + std::to_string(cpu));
        put(dir / "topology" / "physical_package_id", std::to_string(package));
        put(dir / "topology" / "core_id", std::to_string(cpu % 4));
        const int sibling = cpu ^ 8;
        put(dir / "topology" / "thread_siblings_list",
            std::to_string(std::min(cpu, sibling)) + "," + std::to_string(std::max(cpu, sibling)));
        put(dir / "cache" / "index0" / "level", "1");
        put(dir / "cache" / "index0" / "type", "Data");
        put(dir / "cache" / "index0" / "shared_cpu_list",
            std::to_string(std::min(cpu, sibling)) + "," + std::to_string(std::max(cpu, sibling)));
        put(dir / "cache" / "index1" / "level", "1");
        put(dir / "cache" / "index1" / "type", "Instruction");
        put(dir / "cache" / "index1" / "shared_cpu_list", "0-15");  // must be ignored: not a data cache
        put(dir / "cache" / "index2" / "level", "3");
        put(dir / "cache" / "index2" / "type", "Unified");
        put(dir / "cache" / "index2" / "shared_cpu_list", package == 0 ? "0-3,8-11" : "4-7,12-15");
        put(dir / "cache" / "index0" / "size", "48K");
        put(dir / "cache" / "index2" / "size", "30720K");
    }
    put(root / "node" / "node0" / "cpulist", "0-3,8-11");
    put(root / "node" / "node1" / "cpulist", "4-7,12-15");
    return root;
}

}  // namespace

TEST_CASE("CPU lists are parsed as the kernel prints them", "[topology]") {
    CHECK(parse_cpu_list("0-3,8,10-11\n") == std::vector<int>{0, 1, 2, 3, 8, 10, 11});
    CHECK(parse_cpu_list("5") == std::vector<int>{5});
    CHECK(parse_cpu_list("").empty());
    CHECK(parse_cpu_list("3-1").empty());
    CHECK(parse_cpu_list("x").empty());
    CHECK(parse_cpu_list("1,,2").empty());
}

TEST_CASE("A 2-socket SMT machine's pairs fall in the right groups", "[topology]") {
    const auto root = two_socket_smt_tree();
    std::vector<int> all(16);
    for (int i = 0; i < 16; ++i) all[std::size_t(i)] = i;
    const Topology t = read_topology(all, root);
    CHECK(t.unknown.empty());
    REQUIRE(t.find(9));
    CHECK(t.find(9)->package == 0);
    CHECK(t.find(9)->node == 0);
    CHECK(t.find(9)->llc_level == 3);
    CHECK(t.find(9)->llc_bytes == std::size_t(30) << 20);  // the L3's size, not the L1's
    CHECK(t.find(9)->smt_siblings == std::vector<int>{1, 9});
    CHECK(classify(t, 1, 9) == PairGroup::smt_siblings);
    CHECK(classify(t, 0, 3) == PairGroup::shared_llc);
    CHECK(classify(t, 3, 11) == PairGroup::smt_siblings);
    CHECK(classify(t, 0, 4) == PairGroup::other_node);
    CHECK(classify(t, 12, 2) == PairGroup::other_node);
    CHECK(classify(t, 0, 99) == PairGroup::unknown);
    CHECK(describe_topology(t) == "2 sockets, 8 cores, 2 threads per core, 2 NUMA nodes, 2 last-level caches");
    // The environment describes only the CPUs allowed: one core's two threads.
    CHECK(describe_topology(read_topology({1, 9}, root)) ==
          "1 socket, 1 core, 2 threads per core, 1 NUMA node, 1 last-level cache");
    // How SMT siblings count: said where two allowed CPUs share a core, not where none do.
    CHECK_THAT(smt_sentence(t).value_or(""),
               Catch::StartsWith("The 16 CPUs here are the kernel's logical CPUs: 2 threads per core on 8 cores"));
    CHECK_FALSE(smt_sentence(read_topology({0, 1, 2, 3}, root)));  // one thread of each of 4 cores
    std::filesystem::remove_all(root);
}

TEST_CASE("Without NUMA or cache files the groups degrade to what is known", "[topology]") {
    const auto root = test::scratch_dir("proclab-sysfs-");
    for (int cpu = 0; cpu < 4; ++cpu) {
        const auto dir = root / "cpu" / ("cpu" + std::to_string(cpu));
        put(dir / "topology" / "physical_package_id", std::to_string(cpu / 2));
        put(dir / "topology" / "thread_siblings_list", std::to_string(cpu));
    }
    const Topology t = read_topology({0, 1, 2, 3}, root);
    CHECK_FALSE(t.unknown.empty());  // says what could not be read
    CHECK(classify(t, 0, 1) == PairGroup::same_package);
    CHECK(classify(t, 0, 2) == PairGroup::unknown);  // other package, node unknown
    CHECK_FALSE(describe_topology(t));               // no core ids: no shape is claimed
    std::filesystem::remove_all(root);
}

TEST_CASE("Past the budget, pairs are every pair of the first CPU, then a fixed random draw", "[core_to_core]") {
    std::vector<int> cpus(192);
    for (int i = 0; i < 192; ++i) cpus[std::size_t(i)] = i;
    const auto all = core_to_core::choose_pairs({0, 1, 2, 3}, 100);
    CHECK(all.size() == 6);
    const auto some = core_to_core::choose_pairs(cpus, 500);
    CHECK(some.size() == 500);
    CHECK(std::count_if(some.begin(), some.end(), [](const auto& p) { return p.first == 0; }) == 191);
    CHECK(some == core_to_core::choose_pairs(cpus, 500));  // the same draw every run
    // A budget too small for the first CPU's row cuts the row too: at least one pair, never more.
    const auto cut = core_to_core::choose_pairs(cpus, 7);
    CHECK(cut.size() == 7);
    CHECK(std::all_of(cut.begin(), cut.end(), [](const auto& p) { return p.first == 0; }));
    CHECK(core_to_core::choose_pairs(cpus, 0).size() == 1);
}

TEST_CASE("A CPU pair option (A,B) keeps the order given and refuses anything but two allowed CPUs",
          "[topology][options]") {
    const std::vector<int> allowed{0, 1, 2, 3};
    const auto p = cpu_pair_option("--cpus", "3,1", allowed);
    CHECK(p.home == 3);
    CHECK(p.other == 1);
    CHECK_THROWS_AS(cpu_pair_option("--cpus", "1", allowed), UsageError);
    CHECK_THROWS_AS(cpu_pair_option("--cpus", "1-2", allowed), UsageError);
    CHECK_THROWS_AS(cpu_pair_option("--cpus", "2,2", allowed), UsageError);
    CHECK_THROWS_AS(cpu_pair_option("--cpus", "0,7", allowed), UsageError);
    CHECK_THROWS_AS(cpu_pair_option("--cpus", "0,1,2", allowed), UsageError);
    // Empty: two different allowed CPUs, or one and the same where only one is allowed.
    const auto chosen = cpu_pair_option("--cpus", "", allowed);
    CHECK(chosen.home != chosen.other);
    const auto one = cpu_pair_option("--cpus", "", {5});
    CHECK(one.home == 5);
    CHECK(one.other == 5);
}
