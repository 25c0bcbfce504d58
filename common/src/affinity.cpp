#include "proclab/affinity.hpp"

#include "proclab/handles.hpp"

#include <string>

namespace proclab {

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) throw_errno("sched_setaffinity(cpu " + std::to_string(cpu) + ")");
}

ScopedPin::ScopedPin(int cpu) {
    CPU_ZERO(&saved_);
    if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) throw_errno("sched_getaffinity");
    pin_to_cpu(cpu);
}

ScopedPin::~ScopedPin() { ::sched_setaffinity(0, sizeof saved_, &saved_); }

}  // namespace proclab
