#include "proclab/memory_probe.hpp"

#include "proclab/handles.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab {

std::string_view name(MemoryDoor door) {
    switch (door) {
        case MemoryDoor::vm_read: return "process_vm_readv(2)";
        case MemoryDoor::vm_write: return "process_vm_writev(2)";
        case MemoryDoor::procmem_read: return "read /proc/PID/mem";
        case MemoryDoor::procmem_write: return "write /proc/PID/mem";
        case MemoryDoor::ptrace_read: return "ptrace(PTRACE_ATTACH) + PEEKDATA";
    }
    return "?";
}

bool writes(MemoryDoor door) { return door == MemoryDoor::vm_write || door == MemoryDoor::procmem_write; }

MemoryAttempt probe_memory(MemoryDoor door, pid_t pid, std::uintptr_t address, std::string_view bytes) {
    MemoryAttempt a;
    std::string buf(bytes.size(), '\0');
    auto done = [&](ssize_t n) {
        a.allowed = n >= 0;
        if (n < 0) a.err = errno;
        if (n > 0 && !writes(door)) a.read.assign(buf.data(), std::size_t(n));
        a.matched = writes(door) ? n == ssize_t(bytes.size()) : a.read == bytes;
        return a;
    };
    switch (door) {
        case MemoryDoor::vm_read:
        case MemoryDoor::vm_write: {
            iovec local{door == MemoryDoor::vm_read ? buf.data() : const_cast<char*>(bytes.data()), bytes.size()};
            iovec remote{reinterpret_cast<void*>(address), bytes.size()};
            return done(door == MemoryDoor::vm_read ? ::process_vm_readv(pid, &local, 1, &remote, 1, 0)
                                                    : ::process_vm_writev(pid, &local, 1, &remote, 1, 0));
        }
        case MemoryDoor::procmem_read:
        case MemoryDoor::procmem_write: {
            const bool write = door == MemoryDoor::procmem_write;
            UniqueFd fd(::open(fmt::format("/proc/{}/mem", pid).c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC));
            if (!fd) return done(-1);
            return done(write ? ::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(address))
                              : ::pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(address)));
        }
        case MemoryDoor::ptrace_read: {
            if (::ptrace(PTRACE_ATTACH, pid, nullptr, nullptr) != 0) return done(-1);
            int status = 0;
            while (::waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
            std::size_t got = 0;
            for (std::size_t off = 0; off < buf.size(); off += sizeof(long)) {
                errno = 0;
                const long word = ::ptrace(PTRACE_PEEKDATA, pid, reinterpret_cast<void*>(address + off), nullptr);
                if (errno != 0) break;
                const std::size_t n = std::min(sizeof word, buf.size() - off);
                std::memcpy(buf.data() + off, &word, n);
                got += n;
            }
            ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
            errno = 0;
            return done(ssize_t(got));
        }
    }
    return a;
}

}  // namespace proclab
