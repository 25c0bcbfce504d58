// Provoking a real memory fault on purpose, the way an ordinary program would suffer one: the
// demos that show a crash (process_isolation, thread_memory) and a pointer from another address
// space (process_isolation) use these, in child processes only.
#pragma once

#include <csignal>
#include <cstdint>

#include <sys/resource.h>

namespace proclab {

// Let SIGSEGV and SIGBUS kill the process with their default action, also in sanitizer builds
// (which install handlers of their own), and write no core file.
inline void die_plainly_on_faults() noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigaction(SIGSEGV, &sa, nullptr);
    ::sigaction(SIGBUS, &sa, nullptr);
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
}

// A plain store or load at an address. Not instrumented, so sanitizers do not turn the fault
// into a report: the point is what the MMU does.
__attribute__((noinline, no_sanitize("address", "undefined"))) inline void store_at(std::uintptr_t address) {
    *reinterpret_cast<volatile int*>(address) = 42;
}
__attribute__((noinline, no_sanitize("address", "undefined"))) inline char load_at(std::uintptr_t address) {
    return *reinterpret_cast<volatile const char*>(address);
}

}  // namespace proclab
