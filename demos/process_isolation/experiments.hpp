// process_isolation's experiments, one file each: the processes themselves (pids, globals, a
// contained crash, a pointer handed across: processes.cpp), reading a child's memory through the
// kernel (kernel_reads.cpp), and the sanctioned door, shared memory (shared_memory.cpp). Each adds
// its table to the result and fills the evidence its claim's rule reads (verdicts.hpp).
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

// 1. `children` children through Boost.Process v2: their pids, parents and own globals.
void spawned_processes(const DemoContext& ctx, int children, Result& result, P1Evidence& p1);
// 2. After fork(), the same virtual address written on both sides. True when the copies stayed apart.
bool fork_copy_on_write(Result& result);
// 3. `crashes` children writing through a null pointer, one after another, beside two siblings.
// `after_crash` (tests) runs after each crash is reaped, before the siblings are pinged, with the
// crash's number (from 1) and the siblings' pids.
using AfterCrash = std::function<void(int crash, const std::vector<pid_t>& siblings)>;
void crash_containment(int crashes, Result& result, P1Evidence& p1, const AfterCrash& after_crash = {});
// 4. A pointer handed to an exec'd receiver.
void pointer_handoff(const DemoContext& ctx, Result& result, P3Evidence& p3);
// 5. A child's memory read through the kernel, without and with the privilege.
void kernel_reads(const DemoContext& ctx, Result& result, P3Evidence& p3);
// 6. Shared memory through Boost.Interprocess, named and inherited. True when both carried the data.
bool shared_memory(const DemoContext& ctx, Result& result);

}  // namespace proclab::process_isolation
