// address_space's three experiments: what one shared address space costs when several threads
// change it at once, against the same work in processes, and the kernel's small operations under
// them (LEBench's list, the floor for the rest).
//
//   faults  will-it-scale's page_fault1: N tasks each map a region of its own, touch every page
//           (a first-touch fault each) and unmap it, over and over, pinned one per CPU; as N
//           threads of one process (one address space: one mm, one page-table tree, one
//           mmap_lock) and as N processes. Page faults per second per task, and the kernel's own
//           count of the faults (perf_event_open, else getrusage) beside the pages touched.
//   unmap   will-it-scale's tlb_flush: a touched region unmapped (munmap, or madvise
//           MADV_DONTNEED) while 0..S sibling threads of the same process run on other CPUs, each
//           of which may cache the region's translations and must be told to drop them (a TLB
//           shootdown, an interrupt to each); against siblings that are processes (nothing to
//           shoot down). The shootdowns are counted from /proc/interrupts ("TLB" on x86).
//   floors  a system call (syscall(SYS_getppid)), mmap + munmap of 4 KiB and 1 MiB untouched, one
//           first-touch page fault.
#pragma once

#include "proclab/clock.hpp"
#include "proclab/stats.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::address_space {

enum class Kind { threads, processes };
std::string_view name(Kind k);

inline constexpr std::size_t kPage = 4096;
inline constexpr std::size_t kFaultRegion = std::size_t(8) << 20;   // per iteration of a fault task
inline constexpr std::size_t kUnmapRegion = std::size_t(64) << 10;  // 16 pages: flushed page by page

// One task's share of a fault point.
struct TaskFaults {
    std::int64_t pages = 0;          // pages it touched (each a first-touch fault)
    double wall_ns = 0;              // from the gate to its last unmap
    std::int64_t minor_faults = -1;  // getrusage(RUSAGE_THREAD) ru_minflt over the loop
    std::int64_t perf_faults = -1;   // perf_event_open's page-faults over the loop; -1: refused
    double per_s() const { return wall_ns > 0 ? double(pages) * 1e9 / wall_ns : 0; }
};

struct FaultPoint {
    Kind kind = Kind::threads;
    int tasks = 1;
    std::vector<TaskFaults> per_task;
    std::string perf_unavailable;  // why the kernel's count came from getrusage
    double median_per_task() const;
    double least_per_task() const;
    double total_per_s() const;
    // The kernel's fault count over the pages touched (1.0: one fault per page); nullopt unknown.
    std::optional<double> faults_per_page() const;
};

FaultPoint measure_faults(Kind kind, int tasks, const std::vector<int>& cpus, Nanos duration_ns);

enum class UnmapOp { munmap, madvise };
std::string_view name(UnmapOp op);

struct UnmapPoint {
    UnmapOp op = UnmapOp::munmap;
    Kind siblings_kind = Kind::threads;
    int siblings = 0;
    int home_cpu = 0;
    std::vector<int> sibling_cpus;
    Summary ns;                               // per operation, the clock's overhead subtracted
    std::optional<double> shootdowns_per_op;  // TLB interrupts counted on every CPU, per operation
    std::string shootdowns_unknown;
};

// `ops` operations on a touched kUnmapRegion, timed one by one, from `home_cpu`, with `siblings`
// busy tasks pinned to `sibling_cpus` (threads of this process, or processes).
UnmapPoint measure_unmap(UnmapOp op, Kind siblings_kind, int home_cpu, const std::vector<int>& sibling_cpus, int ops,
                         double clock_overhead_ns);

struct Floor {
    std::string what;  // "a system call (getppid)"
    std::string id;    // "syscall_getppid"
    Summary ns;
    std::optional<double> kernel_faults_per_op;  // perf's page-faults per operation, where counted
    std::string method;
    std::string kernel_unavailable;  // why perf could not count them, where it could not
};

std::vector<Floor> measure_floors(int samples, double clock_overhead_ns);

// The "TLB:" line of /proc/interrupts text (x86's TLB shootdowns), per CPU; empty when absent.
std::vector<std::int64_t> parse_tlb_interrupts(std::string_view text);

}  // namespace proclab::address_space
