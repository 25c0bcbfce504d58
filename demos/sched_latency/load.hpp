// The load beside a latency measurement: K CPU-bound processes that spin until they are
// destroyed. Each is a real process (ChildProcess: reaped by the destructor, killed with the
// demo on Ctrl-C, SIGTERM or the --timeout, and by PR_SET_PDEATHSIG when the demo is killed).
#pragma once

#include "proclab/child.hpp"

#include <optional>
#include <string>
#include <vector>

namespace proclab::sched_latency {

class SpinnerGang {
public:
    // Starts `count` spinners, each pinned to `pin_cpu` when given (else they may run anywhere the
    // demo may), and returns once every one has begun to spin. A fork the kernel refuses (a
    // process limit, say) ends the starting: size() then says how many spin, failure() why.
    SpinnerGang(int count, std::optional<int> pin_cpu);
    SpinnerGang(const SpinnerGang&) = delete;
    SpinnerGang& operator=(const SpinnerGang&) = delete;
    ~SpinnerGang();

    int size() const noexcept { return static_cast<int>(children_.size()); }
    // Empty when all started; else "the load of 4 was not reached (2 spinning): the next fork refused: ...".
    const std::string& failure() const noexcept { return failure_; }
    // Kills and reaps every spinner now (before an interference reading, which counts their CPU
    // time as ours only once they are reaped).
    void stop() noexcept;

private:
    std::vector<ChildProcess> children_;
    std::string failure_;
};

}  // namespace proclab::sched_latency
