#include "creation_cost/operations.hpp"

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/affinity.hpp"
#include "proclab/environment.hpp"
#include "proclab/handoff.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"
#include "proclab/spawn.hpp"
#include "creation_cost/thread_pool.hpp"

#include <algorithm>
#include <iostream>

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace proclab::creation_cost {

// ---------------------------------------------------------------------------------------------
// Timing one operation many times.

KernelCounts count_each(int count, const std::function<void()>& op) {
    KernelCounts k;
    PerfCounters counters;
    if (!counters.available(PerfEvent::page_faults)) {
        k.unavailable = counters.unavailable_reason(PerfEvent::page_faults);
        return k;
    }
    counters.start();
    for (int i = 0; i < count; ++i) op();
    const PerfCounts c = counters.stop();
    k.ops = count;
    k.page_faults = c.per_operation(PerfEvent::page_faults, count);
    k.context_switches = c.per_operation(PerfEvent::context_switches, count);
    k.cpu_migrations = c.per_operation(PerfEvent::cpu_migrations, count);
    return k;
}

Summary time_each(int warmup, int count, double clock_overhead, const std::function<void()>& op) {
    for (int i = 0; i < warmup; ++i) op();
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        const Nanos t0 = now_ns();
        op();
        samples.push_back(double(now_ns() - t0));
    }
    return summarize(subtract_overhead(samples, clock_overhead));
}

static void reap(pid_t pid, const char* what) {
    if (pid < 0) throw_errno(what);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) throw_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(fmt::format("{}: the child ended with {}", what, ExitStatus{status}.describe()));
}

// The raw calls, each a complete create-and-reap.
void thread_create_join() {
    std::thread([] {}).join();
}

void pthread_small_stack() {
    pthread_attr_t attr;
    ::pthread_attr_init(&attr);
    ::pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t t;
    if (::pthread_create(
            &t, &attr, [](void*) -> void* { return nullptr; }, nullptr) != 0)
        throw HarnessError(EAGAIN, "pthread_create");
    ::pthread_attr_destroy(&attr);
    ::pthread_join(t, nullptr);
}

// Raw fork, not ChildProcess: the point is the system call's own cost, and the child does nothing
// but exit. Ctrl-C and --timeout are held off until it is reaped (two sigprocmask calls, well
// under a microsecond), so no signal can leave it behind.
void fork_exit_wait() {
    cleanup::SignalBlock block;
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    reap(pid, "fork");
}

void vfork_exit_wait() {
    cleanup::SignalBlock block;
    const pid_t pid = ::vfork();
    if (pid == 0) ::_exit(0);
    reap(pid, "vfork");
}

void posix_spawn_wait(const std::string& program) {
    cleanup::SignalBlock block;
    pid_t pid = -1;
    char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
    const int err = ::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ);
    if (err != 0) throw HarnessError(err, "posix_spawn " + program);
    reap(pid, "posix_spawn");
}

void fork_exec_wait(const std::string& program) {
    cleanup::SignalBlock block;
    const pid_t pid = ::fork();
    if (pid == 0) {
        char* argv[] = {const_cast<char*>(program.c_str()), nullptr};
        ::execv(program.c_str(), argv);
        ::_exit(127);
    }
    reap(pid, "fork+exec");
}

// ---------------------------------------------------------------------------------------------
// A task handed to a pool's worker.

PoolHandoff pool_handoff(int caller_cpu, int worker_cpu, int warmup, int count, double clock_overhead, PoolWait wait) {
    PoolHandoff r;
    r.caller_cpu = caller_cpu;
    r.worker_cpu = worker_cpu;
    if (caller_cpu != worker_cpu) {
        const LineFloor line = line_floor(caller_cpu, worker_cpu, kFloorBatches, clock_overhead);
        r.line_one_way_ns = line.floor_ns();
        r.line_source = line.describe();
    }
    // On one CPU for both, nobody spins: a spinning worker or caller would only keep the other off it.
    const bool spin = caller_cpu != worker_cpu;
    std::optional<ThreadPool> pool;
    {
        const ScopedPin on_worker_cpu(worker_cpu);  // the worker inherits this thread's affinity
        pool.emplace(1, std::size_t(1) << 16, spin ? ThreadPool::IdleSpin::always : ThreadPool::IdleSpin::never);
    }
    const ScopedPin on_caller_cpu(caller_cpu);
    // The task counts itself when a worker runs it; the caller reads the count only after the
    // handle said done (its release and acquire order the two).
    const std::thread::id caller = std::this_thread::get_id();
    int on_worker = 0;
    auto once = [&] {
        auto handle = pool->submit([&on_worker, caller] { on_worker += std::this_thread::get_id() == caller ? 0 : 1; });
        if (wait == PoolWait::worker) handle.get_from_worker(spin);
        else handle.get();
    };
    for (int i = 0; i < warmup; ++i) once();
    on_worker = 0;
    r.round_trip = time_each(0, count, clock_overhead, once);
    r.samples = count;
    r.on_worker = on_worker;
    return r;
}

// ---------------------------------------------------------------------------------------------
// The conditions a cost is timed under: the parent's threads and resident memory.

ParentConditions parent_conditions() {
    ParentConditions c;
    cpu_set_t mask;
    if (::sched_getaffinity(0, sizeof(mask), &mask) == 0 && CPU_COUNT(&mask) == 1)
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &mask)) c.pinned_cpu = cpu;
    if (auto text = read_small_file("/proc/self/status")) {
        if (auto v = status_field(*text, "Threads")) c.threads = std::stoi(*v);
        if (auto v = status_field(*text, "VmRSS")) c.rss_bytes = std::stod(*v) * 1024;  // "1234 kB"
    }
    return c;
}

std::string describe(const ParentConditions& c) {
    return fmt::format("{} thread{}, RSS {}, {}", c.threads, c.threads == 1 ? "" : "s",
                       format_value(c.rss_bytes, "bytes"),
                       c.pinned_cpu >= 0 ? fmt::format("pinned to CPU {}", c.pinned_cpu) : "not pinned");
}

// `creation_cost --child fork-reference COUNT`: fork + _exit + waitpid timed in a fresh process
// (exec'd, one thread, nothing else loaded), printed as one JSON line.
int child_fork_reference(const std::vector<std::string>& args) {
    const int count = args.empty() ? 100 : std::clamp(std::stoi(args[0]), 1, 100000);
    const double overhead = calibrate_clock(2000).read_overhead_ns;
    const auto conditions = parent_conditions();
    const Summary s = time_each(5, count, overhead, fork_exit_wait);
    std::cout << Json{{"median_ns", s.median},
                      {"p99_ns", s.p99},
                      {"count", s.count},
                      {"threads", conditions.threads},
                      {"rss_bytes", conditions.rss_bytes},
                      {"pinned_cpu", conditions.pinned_cpu}}
                     .dump()
              << std::endl;
    return 0;
}

Reference fork_reference(const std::filesystem::path& self, int count) {
    Reference r;
    auto run =
        run_captured(self, {"--child", "fork-reference", std::to_string(count)}, {.timeout = std::chrono::seconds(60)});
    if (!run.status.exited() || run.status.exit_code() != 0) {
        r.why_not = "the reference process ended: " + run.status.describe();
        return r;
    }
    try {
        const auto j = Json::parse(run.out);
        r.fork.median = j.at("median_ns").get<double>();
        r.fork.p99 = j.at("p99_ns").get<double>();
        r.fork.count = j.at("count").get<std::size_t>();
        r.conditions.threads = j.at("threads").get<int>();
        r.conditions.rss_bytes = j.at("rss_bytes").get<double>();
        r.conditions.pinned_cpu = j.at("pinned_cpu").get<int>();
        r.ran = true;
    } catch (const std::exception& e) {
        r.why_not = std::string("the reference process printed no usable result: ") + e.what();
    }
    return r;
}

}  // namespace proclab::creation_cost
