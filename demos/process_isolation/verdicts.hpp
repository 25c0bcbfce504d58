// process_isolation's rules (P1, P3): pure functions of the evidence, unit-tested in
// tests/unit/test_process_isolation.cpp. Both rest on deterministic observations (pids, a write
// seen or not, a refusal), so they are decided once, not in trials.
#pragma once

#include "proclab/evidence.hpp"

#include <string>

namespace proclab::process_isolation {

// How long a sibling has to answer a ping before it counts as silent (alive, not answering).
inline constexpr double kAnswerDeadlineS = 10;

struct P1Evidence {
    // Pids are counted among processes alive at the same moment (this one, the siblings, a crasher):
    // a pid can be reused once its process is reaped, so sequential children prove nothing.
    int processes = 0;
    int distinct_pids = 0;  // the fewest distinct among them, over the crashes
    int processes_alive_together = 0;
    int children = 0;                   // children started through Boost.Process, one after another
    int children_reporting_parent = 0;  // children whose ppid was this process
    int children_kept_own_global = 0;   // children that read back their own tag in the shared-named global
    // The crashes: forked children writing through a null pointer beside two siblings.
    int crashes = 0;
    int crashes_by_fault = 0;           // crashers that died of a fault signal (SIGSEGV, SIGBUS)
    std::string crash_status;           // how a crasher ended: the first that died of its fault, else one that did not
    std::string crash_signal;           // "SIGSEGV": the fault signal, when any crasher died of one
    bool crash_killed_by_demo = false;  // a crasher had not died within its deadline: the demo killed it
    int siblings = 0;
    int siblings_alive_after_crash = 0;  // the fewest answering after any crash
    // A sibling that did not answer: how it ended (reaped: "killed by SIGKILL"), after which crash;
    // or, still running but silent past the deadline, that it was unresponsive (not evidence).
    std::string lost_sibling_status;
    int lost_after_crash = 0;
    int siblings_unresponsive = 0;
};

struct P3Evidence {
    bool fork_copies_isolated = false;  // same address, different data, both ways
    int pointers_handed = 0;            // pointers an exec'd receiver dereferenced
    int pointers_faulted = 0;
    int pointers_read_own_memory = 0;  // the receiver read its own bytes at that address
    int pointers_reached_sender = 0;   // the receiver read the sender's data
    int unprivileged_attempts = 0;
    int unprivileged_allowed = 0;
    std::string unprivileged_reader;  // who tried without the privilege
    int privileged_attempts = 0;
    int privileged_allowed = 0;
    std::string privileged_reader;  // whose privilege opened the door
    bool shared_memory_works = false;
};

extern const RuleInfo kP1Rule;
extern const RuleInfo kP3Rule;

// P1: refuted by two processes with one pid, or a sibling dying with the crasher; not-measured
// when the crash could not be provoked (a child that did not die of its fault).
Decision decide_p1(const P1Evidence& e);
// P3: refuted by a write seen across fork, a handed pointer reaching the sender's data, or a
// kernel read allowed without the privilege; nuanced where a reader with ptrace rights got through.
Decision decide_p3(const P3Evidence& e);

}  // namespace proclab::process_isolation
