// Where CPUs sit relative to each other, read from sysfs: SMT siblings (one core), the CPUs that
// share the last-level cache, the package (socket) and the NUMA node. A hand-off between two CPUs
// costs what the path between them costs, so every cross-CPU figure is read against this.
// The reader takes the sysfs root as a parameter, so recorded trees can stand in for this machine.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab {

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; empty on malformed text.
std::vector<int> parse_cpu_list(std::string_view text);

struct CpuPlace {
    int cpu = -1;
    int package = -1;               // physical_package_id; -1 unknown
    int core = -1;                  // core_id
    int node = -1;                  // NUMA node; -1 unknown
    std::vector<int> smt_siblings;  // thread_siblings_list (itself included)
    std::vector<int> llc_cpus;      // shared_cpu_list of the highest-level data/unified cache
    int llc_level = 0;
    std::size_t llc_bytes = 0;  // its size ("266240K"); 0 unknown
};

struct Topology {
    std::vector<CpuPlace> cpus;
    std::vector<std::string> unknown;  // what could not be read, with the path
    const CpuPlace* find(int cpu) const&;
    // A pointer into a temporary would dangle: keep the Topology in a variable first.
    const CpuPlace* find(int cpu) const&& = delete;
};

// Reads <root>/cpu/cpuN/topology/*, <root>/cpu/cpuN/cache/index*/{level,type,shared_cpu_list,size} and
// <root>/node/nodeM/cpulist for each of `cpus`. Default root: /sys/devices/system.
Topology read_topology(const std::vector<int>& cpus, const std::filesystem::path& root = "/sys/devices/system");

// The shape in words, counted over the CPUs read: "2 sockets, 4 cores, 2 threads per core, 2 NUMA
// nodes, 2 last-level caches"; a part that could not be read is left out. Nothing when no CPU's
// package and core could be read.
std::optional<std::string> describe_topology(const Topology& t);

// How SMT siblings count, where two of the CPUs read share a core: "the 4 CPUs here are the kernel's
// logical CPUs, 2 threads of each of 2 cores ...". Nothing where no two of them share a core (or
// the siblings could not be read): then a CPU is a core of its own.
std::optional<std::string> smt_sentence(const Topology& t);

// How close two CPUs are, closest first.
enum class PairGroup { smt_siblings, shared_llc, same_package, same_node, other_node, unknown };
std::string_view to_string(PairGroup g);
PairGroup classify(const Topology& t, int a, int b);

}  // namespace proclab
