// process_isolation's experiments, one file each: the processes themselves (pids, globals, a
// contained crash, a pointer handed across: processes.cpp), reading a child's memory through the
// kernel (kernel_reads.cpp), and the sanctioned door, shared memory (shared_memory.cpp); the
// report of what they observed (report.cpp).
#pragma once

#include "process_isolation/verdicts.hpp"

#include "proclab/demo.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace proclab::process_isolation {

// The state the children inspect, and the helpers the parent reads their reports with (children.cpp).
extern char g_marker[64];
std::string hex(const void* p);
std::map<std::string, std::string> parse_key_values(const std::string& line);
std::string unescape(const std::string& s);  // children print values with '_' for spaces
int count_open_fds();
unsigned long long nofile_soft_limit();

// Child modes, run in a fresh copy of this executable (`process_isolation --child MODE ...`).
int child_report(const std::vector<std::string>& args);     // pid, ppid, a global and a heap object, fds, RLIMIT_NOFILE
int child_deref(const std::vector<std::string>& args);      // dereferences an address another process handed over
int child_shm_write(const std::vector<std::string>& args);  // opens a named segment by name and writes into it

// Each experiment measures, fills the evidence its claim's rule reads (verdicts.hpp), and returns
// what it observed; report.cpp presents the observations, and nothing here builds a table.

// 1. `children` children through Boost.Process v2: their pids, parents and own globals.
struct ProcessView {
    std::string who;  // "parent", "child-1", "child-2 (lowered its limit)", "parent, after"
    double pid = 0, ppid = 0;
    std::string global_addr, global, heap_addr, heap;
    double open_fds = 0, nofile = 0;
};
struct SpawnedProcesses {
    std::vector<ProcessView> rows;  // the parent, each child, the parent again
};
SpawnedProcesses spawned_processes(const DemoContext& ctx, int children, P1Evidence& p1);

// 2. After fork(), the same virtual address written on both sides.
struct ForkCopy {
    std::string object;  // "global", "heap"
    std::string parent_addr, child_addr;
    std::string parent_read, child_read;  // each side's read after the other wrote
};
struct ForkCopies {
    std::vector<ForkCopy> rows;
    bool isolated = false;  // same addresses, and each side kept its own bytes
};
ForkCopies fork_copy_on_write();

// 3. `crashes` children writing through a null pointer, one after another, beside two siblings.
// `after_crash` (tests) runs after each crash is reaped, before the siblings are pinged, with the
// crash's number (from 1) and the siblings' pids.
inline constexpr int kCrashRowsShown = 4;  // the first crashes get a row each; the rest are counted
struct CrashRow {
    int crash = 0;
    pid_t pid = 0;
    std::string ended;  // how the crasher ended
    int siblings_answering = 0, alive_together = 0, distinct_pids = 0;
};
struct CrashContainment {
    std::vector<CrashRow> rows;  // the first kCrashRowsShown
    int crashes = 0;
};
using AfterCrash = std::function<void(int crash, const std::vector<pid_t>& siblings)>;
CrashContainment crash_containment(int crashes, P1Evidence& p1, const AfterCrash& after_crash = {});

// 4. A pointer handed to an exec'd receiver.
struct HandedPointer {
    std::string object, address, mapped, outcome;
};
struct PointerHandoff {
    std::vector<HandedPointer> rows;
    std::string global_secret, heap_secret;  // the parent's data at those addresses
};
PointerHandoff pointer_handoff(const DemoContext& ctx, P3Evidence& p3);

// 5. A child's memory read through the kernel, without and with the privilege.
struct KernelRead {
    std::string reader, target, method, outcome, err;
};
struct KernelReads {
    std::vector<KernelRead> rows;
    bool cross_uid_tried = false;  // only root can switch a helper to another uid
};
KernelReads kernel_reads(const DemoContext& ctx, P3Evidence& p3);

// 6. Shared memory through Boost.Interprocess, named and inherited.
struct SharedSegment {
    std::string kind, writer, reader, writer_addr, reader_addr, seen;
};
struct SharedMemory {
    std::vector<SharedSegment> rows;
    bool works = false;  // both carried the data
};
SharedMemory shared_memory(const DemoContext& ctx);

// Every experiment's observations, and the report built from them (report.cpp).
struct Observations {
    SpawnedProcesses processes;
    ForkCopies fork;
    CrashContainment crashes;
    PointerHandoff pointers;
    KernelReads reads;
    SharedMemory shm;
};
void present(Result& result, const DemoContext& ctx, const Observations& o, const P1Evidence& p1);

}  // namespace proclab::process_isolation
