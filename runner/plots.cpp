#include "plots.hpp"

#include "proclab/spawn.hpp"

#include <unistd.h>

namespace proclab::suite {
namespace {

constexpr const char* kPlotScript =
#include "proclab/plot_script.inc"
    ;

}  // namespace

const char* plot_caption(const std::string& file) {
    if (file == "timeline.png") return "Who ran on which CPU: the first over-subscribed step of time_slicing (P2, P4).";
    if (file == "cpu_share.png") return "CPU share per process against the number of CPU-bound processes, with min(1, CPUs/K) (P4).";
    if (file == "speedup.png")
        return "Speedup against threads: compute- and memory-bound C++ threads, an emulated GIL, real CPython; below, the measured overlap (T2, T9).";
    if (file == "creation_costs.png") return "Creating a thread or a process against handing a task to a pool, log scale (T8).";
    if (file == "fork_vs_size.png") return "fork's cost against the memory the parent touched; vfork and posix_spawn stay flat (T8).";
    if (file == "context_switch.png") return "One context switch: processes vs threads, one CPU vs two (P2, T1).";
    if (file == "core_to_core.png") return "A cache line's one-way trip between each pair of CPUs (core_to_core).";
    if (file == "working_set.png") return "What a switch costs in lost cache, against each endpoint's working set (context_switch, lat_ctx -s).";
    if (file == "ipc_latency.png") return "Round trip between two processes by way and message size, beside the cache-line floor (ipc_cost).";
    if (file == "isolation_matrix.png") return "Who can do what to whom: each action by a prober in each relationship, allowed or refused (isolation_matrix, P1, P3).";
    if (file == "ipc_bandwidth.png") return "Bandwidth between two processes by way and message size, beside memcpy (ipc_cost).";
    if (file == "sched_lateness.png") return "How late a sleeper woke for its deadline, by policy and load: the share of wake-ups later than each lateness (sched_latency, P2).";
    if (file == "wakeup_latency.png") return "Wake-up latency p99 between two threads and two processes, against the load beside them (sched_latency).";
    if (file == "page_faults.png") return "First-touch page faults per second per task against tasks faulting at once: threads of one process against processes (address_space, T4, T7).";
    if (file == "unmap_siblings.png") return "What an unmap costs while siblings run on other CPUs: sibling threads need TLB shootdowns, sibling processes do not (address_space).";
    return "";
}

const char* plot_script() { return kPlotScript; }

std::filesystem::path python_with_matplotlib() {
    std::vector<std::filesystem::path> candidates{"/usr/bin/python3"};
    if (auto p = find_program("python3"); !p.empty()) candidates.push_back(p);
    for (const auto& py : candidates) {
        if (::access(py.c_str(), X_OK) != 0) continue;
        try {
            auto run = run_captured(py, {"-c", "import matplotlib"}, {.timeout = std::chrono::seconds(30)});
            if (run.status.exited() && run.status.exit_code() == 0) return py;
        } catch (const std::exception&) {
        }
    }
    return {};
}

}  // namespace proclab::suite
