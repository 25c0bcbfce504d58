// creation_cost's two sweeps: fork against the parent's size, and a pool against a thread per task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace proclab::creation_cost {

// fork, vfork and posix_spawn timed from a parent that touched every page of `mib` MiB of private
// memory first (with MADV_HUGEPAGE when `huge`, MADV_NOHUGEPAGE otherwise); medians of `count`.
// Two passes, fork first at every size and vfork and posix_spawn after: on this kernel fork was
// measured to run a quarter faster once vfork had run (78 -> 58 us, the same parent), so fork at
// every size is timed before any vfork, in the conditions of table 1's fork.
struct SizePoint {
    std::size_t mib = 0;
    bool huge_pages = false;
    double fork_ns = 0, vfork_ns = 0, spawn_ns = 0;
    double parent_rss_bytes = 0;  // VmRSS while fork was timed, the region included
};
enum class SizePass { fork, vfork_and_spawn };
void time_at_size(SizePoint& p, SizePass pass, int count, double clock_overhead, const std::string& program);

std::optional<std::size_t> available_mib();  // MemAvailable
bool thp_offered();                          // transparent huge pages: always or madvise

// `tasks` tasks of `iterations` multiply-adds each, through a pool and one std::thread each.
struct TaskSizePoint {
    double work_ns;  // one task's work, measured alone
    int tasks;
    double pool_ns;     // per task, through the pool
    double threads_ns;  // per task, one std::thread each (started in batches of CPUs, then joined)
};
// The pool exists only for its half: the thread-per-task half runs with no pool worker waiting.
TaskSizePoint pool_vs_threads(std::uint64_t iterations, int tasks, unsigned cpus);

}  // namespace proclab::creation_cost
