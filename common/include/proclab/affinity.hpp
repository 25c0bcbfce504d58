// CPU pinning: where a measurement depends on which CPU runs what, the demo says so and pins.
#pragma once

#include <sched.h>

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

}  // namespace proclab
