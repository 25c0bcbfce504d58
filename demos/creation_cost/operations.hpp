// creation_cost's operations, each a complete create-and-reap, and the conditions they are timed
// under (the parent's threads, resident memory, pinning).
#pragma once

#include "proclab/perf_counters.hpp"
#include "proclab/stats.hpp"

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace proclab::creation_cost {

// `op` run `warmup` times, then `count` times each timed alone; the clock's overhead subtracted.
Summary time_each(int warmup, int count, double clock_overhead, const std::function<void()>& op);

// What the kernel counted for the calling thread per operation (perf_event_open's software events),
// in a pass of its own after the timed one, so the counters never run beside a timed operation.
struct KernelCounts {
    int ops = 0;                                                          // operations counted
    std::optional<double> page_faults, context_switches, cpu_migrations;  // per operation
    std::string unavailable;                                              // why there are none, where there are none
};
KernelCounts count_each(int count, const std::function<void()>& op);

void thread_create_join();
void pthread_small_stack();
void fork_exit_wait();
void vfork_exit_wait();
void posix_spawn_wait(const std::string& program);
void fork_exec_wait(const std::string& program);

// A task handed to a pool's worker and back: a pool of one worker pinned to `worker_cpu`, the
// caller pinned to `caller_cpu`, each empty task submitted and waited for. `wait`: the caller
// waits without running queued tasks (TaskHandle::get_from_worker: the hand-off itself), or helps
// (TaskHandle::get: it may run its own task, and then nothing was handed off). Each task records
// whether a worker ran it. Where the CPUs differ, a cache line's one-way trip between them is
// measured first: a round trip to another CPU and back cannot take less than two of them.
enum class PoolWait { worker, helping };
struct PoolHandoff {
    Summary round_trip;  // ns
    int samples = 0;
    int on_worker = 0;  // samples whose task a worker ran
    int caller_cpu = -1, worker_cpu = -1;
    std::optional<double> line_one_way_ns;  // the cache line's fastest one-way trip between the two CPUs (the floor)
    std::string line_source;  // where the floor came from (LineFloor::describe: the suite's, or this trial's)
};
PoolHandoff pool_handoff(int caller_cpu, int worker_cpu, int warmup, int count, double clock_overhead, PoolWait wait);

struct ParentConditions {
    int threads = 0;
    double rss_bytes = 0;
    int pinned_cpu = -1;  // the one CPU the timing thread may run on; -1: more than one
};

ParentConditions parent_conditions();
std::string describe(const ParentConditions& c);

// `creation_cost --child fork-reference COUNT`: fork + _exit + waitpid timed in a fresh process
// (exec'd, one thread, nothing else loaded), printed as one JSON line.
int child_fork_reference(const std::vector<std::string>& args);

struct Reference {
    bool ran = false;
    std::string why_not;
    Summary fork;
    ParentConditions conditions;
};

// Runs `self --child fork-reference count` and reads its line.
Reference fork_reference(const std::filesystem::path& self, int count);

// Threads that do nothing but wait, so a fork can be timed from a parent running `n` threads.
class BlockedThreads {
public:
    explicit BlockedThreads(int n) {
        for (int i = 0; i < n; ++i)
            threads_.emplace_back([this] {
                std::unique_lock lock(mutex_);
                ++started_;
                started_cv_.notify_all();
                stop_cv_.wait(lock, [this] { return stop_; });
            });
        std::unique_lock lock(mutex_);
        started_cv_.wait(lock, [&] { return started_ == n; });
    }
    BlockedThreads(const BlockedThreads&) = delete;
    BlockedThreads& operator=(const BlockedThreads&) = delete;
    ~BlockedThreads() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        stop_cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable started_cv_, stop_cv_;
    int started_ = 0;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace proclab::creation_cost
