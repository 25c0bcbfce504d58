#include "proclab/affinity.hpp"

#include "proclab/environment.hpp"
#include "proclab/usage_error.hpp"
#include "proclab/handles.hpp"
#include "proclab/interference.hpp"
#include "proclab/topology.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace proclab {

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0)
        throw_errno("sched_setaffinity(cpu " + std::to_string(cpu) + ")");
}

ScopedPin::ScopedPin(int cpu) {
    CPU_ZERO(&saved_);
    if (::sched_getaffinity(0, sizeof saved_, &saved_) != 0) throw_errno("sched_getaffinity");
    pin_to_cpu(cpu);
}

ScopedPin::~ScopedPin() { ::sched_setaffinity(0, sizeof saved_, &saved_); }

CpuPair cpu_pair_option(std::string_view option_name, std::string_view text, const std::vector<int>& allowed) {
    if (text.empty()) {
        const int home = idlest_cpu(allowed);
        return {home, allowed.size() < 2 ? home : (home == allowed[0] ? allowed[1] : allowed[0])};
    }
    const auto comma = text.find(',');
    const auto pair = parse_cpu_list(std::string(text));
    if (comma == std::string_view::npos || text.find('-') != std::string_view::npos || pair.size() != 2)
        throw UsageError(fmt::format("{} {}: give two different CPUs, like 0,1", option_name, text));
    for (int c : pair)
        if (std::find(allowed.begin(), allowed.end(), c) == allowed.end())
            throw UsageError(fmt::format("{}: CPU {} is not in this process's affinity mask ({})", option_name, c,
                                         format_cpu_list(allowed)));
    // parse_cpu_list sorts: keep the order given.
    const int home = std::stoi(std::string(text.substr(0, comma)));
    return {home, home == pair[0] ? pair[1] : pair[0]};
}

}  // namespace proclab
