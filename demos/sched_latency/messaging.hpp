// Many tasks messaging (hackbench's shape, as `hackbench` of rt-tests and `perf bench sched
// messaging` run it): G groups, each of F receivers and F senders; every sender writes L messages
// of 100 bytes to each receiver of its group, every receiver reads F x L of them. The tasks are
// processes or threads of this process; the channel of each receiver is a pipe or a socketpair
// (AF_UNIX, SOCK_STREAM). Every task is started first and waits at a gate; the time is from the
// gate's opening until the last receiver has read its last message, as both tools time it.
#pragma once

#include "sched_latency/probes.hpp"

#include <string>

namespace proclab::sched_latency {

inline constexpr int kMessageBytes = 100;  // hackbench's and perf bench's datasize
inline constexpr int kFdsPerGroup = 20;    // their -f / --fds default

enum class Transport { pipe, socket };
std::string_view name(Transport t);

struct MessagingConfig {
    int groups = 1;
    int loops = 100;
    Kind kind = Kind::processes;
    Transport transport = Transport::pipe;
    std::optional<int> pin_cpu;
};

struct MessagingResult {
    double total_ns = 0;        // the gate's opening to the last task reaped (or joined): the tools' figure
    double last_read_ns = 0;    // the gate's opening to the last receiver's last message: the rest is exiting
    std::int64_t messages = 0;  // groups x F senders x F receivers x loops
    int tasks = 0;
    std::string refused;  // not measured: why its tasks could not all start (then nothing else is set)
    double per_message_ns() const { return messages > 0 ? total_ns / double(messages) : 0; }
};

// Runs it once. A task the kernel refuses to start (a process or memory limit) ends the run before
// the gate opens: every task already started is let go and joined or reaped, and `refused` says why.
MessagingResult run_messaging(const MessagingConfig& config);

}  // namespace proclab::sched_latency
