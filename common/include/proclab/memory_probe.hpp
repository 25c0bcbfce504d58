// Reaching another process's memory through the kernel, the three doors P3 is about:
// process_vm_readv/writev(2), /proc/PID/mem, and ptrace (attach, PEEKDATA, detach). One attempt
// each: allowed, or refused with the errno the kernel gave. A refusal is a finding, not an error.
// Writes put back the bytes given, which the caller read there first, so an allowed write changes
// nothing. Used by process_isolation and isolation_matrix alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace proclab {

enum class MemoryDoor { vm_read, vm_write, procmem_read, procmem_write, ptrace_read };

std::string_view name(MemoryDoor door);  // "process_vm_readv(2)", "read /proc/PID/mem", ...
bool writes(MemoryDoor door);

struct MemoryAttempt {
    bool allowed = false;
    int err = 0;           // errno when refused
    std::string read;      // the bytes a read got
    bool matched = false;  // a read got exactly `bytes`; a write wrote all of them
};

// One attempt on `pid`'s memory at `address`: a read of bytes.size() bytes, compared with `bytes`
// (what the caller expects there), or a write of `bytes`. The ptrace door attaches, waits for the
// stop, peeks and detaches; the caller must be allowed to wait for the target (any tracer is).
MemoryAttempt probe_memory(MemoryDoor door, pid_t pid, std::uintptr_t address, std::string_view bytes);

}  // namespace proclab
