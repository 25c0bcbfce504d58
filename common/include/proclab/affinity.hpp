// CPU pinning: where a measurement depends on which CPU runs what, the demo says so and pins.
#pragma once

#include <sched.h>

#include <string_view>
#include <vector>

namespace proclab {

// Pins the calling thread (a process's only thread: the process) to `cpu`. Throws HarnessError.
void pin_to_cpu(int cpu);

// Pins to `cpu` for the scope's lifetime, then restores the mask it found.
class ScopedPin {
public:
    explicit ScopedPin(int cpu);
    ScopedPin(const ScopedPin&) = delete;
    ScopedPin& operator=(const ScopedPin&) = delete;
    ~ScopedPin();

private:
    cpu_set_t saved_;
};

// Two CPUs for a demo that measures on one CPU and across two (`--cpus A,B`): `home` is A (the
// initiator's, and the one-CPU placement's), `other` is B. An empty option picks the CPU that was
// idlest a moment ago and another allowed one (other == home when only one is allowed). Throws
// UsageError (usage_error.hpp) for anything but two different CPUs of `allowed`, naming `option_name`.
struct CpuPair {
    int home = 0, other = 0;
};
CpuPair cpu_pair_option(std::string_view option_name, std::string_view text, const std::vector<int>& allowed);

}  // namespace proclab
