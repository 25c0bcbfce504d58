#include "sched_latency/probes.hpp"

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/environment.hpp"
#include "proclab/futex.hpp"
#include "proclab/handles.hpp"
#include "proclab/perf_counters.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

namespace proclab::sched_latency {

std::string_view name(Policy p) {
    switch (p) {
        case Policy::other: return "SCHED_OTHER";
        case Policy::nice_minus_10: return "SCHED_OTHER nice -10";
        case Policy::fifo: return "SCHED_FIFO 50";
    }
    return "?";
}

std::string_view option_name(Policy p) {
    switch (p) {
        case Policy::other: return "other";
        case Policy::nice_minus_10: return "nice-10";
        case Policy::fifo: return "fifo";
    }
    return "?";
}

std::optional<Policy> policy_from_option(std::string_view text) {
    for (Policy p : {Policy::other, Policy::nice_minus_10, Policy::fifo})
        if (option_name(p) == text) return p;
    return std::nullopt;
}

std::string_view name(Channel c) { return c == Channel::futex ? "futex" : "pipe"; }
std::string_view name(Kind k) { return k == Kind::threads ? "threads" : "processes"; }

namespace {

std::string limit_text(int resource) {
    rlimit r{};
    if (::getrlimit(resource, &r) != 0) return "unknown";
    return r.rlim_cur == RLIM_INFINITY ? "unlimited" : fmt::format("{}", static_cast<unsigned long long>(r.rlim_cur));
}

struct SchedReading {
    bool known = false;
    std::string error;
    std::int64_t wait_ns = 0, slices = 0;
};

SchedReading read_own_schedstat() {
    SchedReading r;
    const auto text = read_small_file("/proc/thread-self/schedstat");
    if (!text) {
        r.error = "cannot read /proc/thread-self/schedstat (CONFIG_SCHEDSTATS off, or /proc not mounted)";
        return r;
    }
    const auto s = parse_schedstat(*text);
    if (!s) {
        r.error = "/proc/thread-self/schedstat is not 'run wait slices'";
        return r;
    }
    r.known = true;
    r.wait_ns = s->wait_ns;
    r.slices = s->timeslices;
    return r;
}

KernelView between(const SchedReading& a, const SchedReading& b) {
    KernelView k;
    k.known = a.known && b.known;
    k.unknown_reason = a.known ? b.error : a.error;
    if (k.known) {
        k.run_delay_ns = double(b.wait_ns - a.wait_ns);
        k.switched_in = b.slices - a.slices;
    }
    return k;
}

double timer_slack_ns() {
    const int slack = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    return slack < 0 ? -1 : double(slack);
}

timespec to_timespec(Nanos ns) {
    return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

void sleep_until(Nanos deadline) {
    const timespec t = to_timespec(deadline);
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, nullptr) == EINTR) {}
}

constexpr int kWarmupWakeups = 5;  // first wake-ups find cold caches and page tables: not kept

}  // namespace

std::string apply_policy(Policy p) {
    switch (p) {
        case Policy::other: return {};
        case Policy::nice_minus_10:
            if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kNiceRaised) == 0) return {};
            return fmt::format("nice {} refused ({}): needs CAP_SYS_NICE or RLIMIT_NICE >= {} (here {})", kNiceRaised,
                               errno_name(errno), 20 - kNiceRaised, limit_text(RLIMIT_NICE));
        case Policy::fifo: {
            sched_param param{};
            param.sched_priority = kFifoPriority;
            const int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
            if (rc == 0) return {};
            return fmt::format("SCHED_FIFO {} refused ({}): needs CAP_SYS_NICE or RLIMIT_RTPRIO >= {} (here {})",
                               kFifoPriority, errno_name(rc), kFifoPriority, limit_text(RLIMIT_RTPRIO));
        }
    }
    return "unknown policy";
}

Samples measure_timer_lateness(const LatenessConfig& config, double clock_overhead_ns) {
    Samples out;
    std::thread sleeper;
    try {
        sleeper = std::thread([&] {
            try {
                if (config.pin_cpu) pin_to_cpu(*config.pin_cpu);
            } catch (const std::exception& e) {
                out.refused = e.what();
                return;
            }
            out.refused = apply_policy(config.policy);
            if (!out.refused.empty()) return;
            out.timer_slack_ns = timer_slack_ns();
            const std::int64_t planned = std::max<std::int64_t>(1, config.duration_ns / config.interval_ns);
            out.ns.reserve(static_cast<std::size_t>(planned));
            Nanos next = now_ns() + config.interval_ns;
            for (int i = 0; i < kWarmupWakeups; ++i, next += config.interval_ns) sleep_until(next);
            PerfCounters counters;
            if (!counters.available(PerfEvent::context_switches))
                out.counters_unavailable = counters.unavailable_reason(PerfEvent::context_switches);
            const SchedReading start = read_own_schedstat();
            counters.start();
            next = now_ns() + config.interval_ns;
            for (std::int64_t i = 0; i < planned; ++i) {
                sleep_until(next);
                const Nanos woke = now_ns();
                out.ns.push_back(std::max(0.0, double(woke - next) - clock_overhead_ns));
                next += config.interval_ns;
                if (next <= woke)
                    next = woke + config.interval_ns -
                           (woke - next) % config.interval_ns;  // deadlines missed: the next one ahead
            }
            const PerfCounts counts = counters.stop();
            out.wakeups_planned = planned;
            out.kernel = between(start, read_own_schedstat());
            out.switches_per_wakeup =
                counts.per_operation(PerfEvent::context_switches, static_cast<int>(out.ns.size()));
            if (const auto m = counts[PerfEvent::cpu_migrations]) out.migrations = double(*m);
        });
    } catch (const std::system_error& e) {
        out.refused = "the sleeper thread could not start: " + start_failure(e.code().value());
        return out;
    }
    sleeper.join();
    return out;
}

namespace {

// One page of shared memory between the waker and the sleeper, followed by the samples.
struct WakeupShared {
    std::atomic<std::uint32_t> word{0};      // futex: the number of wakes so far
    std::atomic<std::uint32_t> answered{0};  // the last wake the sleeper recorded
    std::atomic<std::int64_t> stamp{0};      // when the waker woke it
    std::atomic<std::uint32_t> stop{0};
    std::atomic<std::uint32_t> ready{0};
    std::atomic<std::int64_t> count{0};
    bool kernel_known = false;
    std::int64_t run_delay_ns = 0, switched_in = 0;
    char kernel_error[160] = {};
    double timer_slack_ns = -1;
    char refused[200] = {};
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free && std::atomic<std::int64_t>::is_always_lock_free);

void sleeper_body(WakeupShared& s, double* samples, std::int64_t capacity, Channel channel, int read_fd,
                  std::optional<int> pin, double clock_overhead_ns) {
    try {
        if (pin) pin_to_cpu(*pin);
    } catch (const std::exception& e) {
        copy_text(s.refused, sizeof s.refused, e.what());
    }
    s.timer_slack_ns = timer_slack_ns();
    const SchedReading start = read_own_schedstat();
    s.ready.store(1, std::memory_order_release);
    std::uint32_t seen = 0;
    while (true) {
        if (channel == Channel::futex) {
            while (s.word.load(std::memory_order_acquire) == seen && !s.stop.load(std::memory_order_acquire))
                futex_shared(&s.word, FUTEX_WAIT, seen);
        } else {
            std::int64_t stamp = 0;
            if (!read_exact(read_fd, &stamp, sizeof stamp)) break;
        }
        const Nanos woke = now_ns();
        if (s.stop.load(std::memory_order_acquire)) break;
        seen = s.word.load(std::memory_order_acquire);
        const std::int64_t i = s.count.load(std::memory_order_relaxed);
        if (i < capacity) {
            samples[i] = std::max(0.0, double(woke - s.stamp.load(std::memory_order_acquire)) - clock_overhead_ns);
            s.count.store(i + 1, std::memory_order_release);
        }
        s.answered.store(seen, std::memory_order_release);
    }
    const KernelView k = between(start, read_own_schedstat());
    s.kernel_known = k.known;
    s.run_delay_ns = static_cast<std::int64_t>(k.run_delay_ns);
    s.switched_in = k.switched_in;
    copy_text(s.kernel_error, sizeof s.kernel_error, k.unknown_reason);
}

}  // namespace

Samples measure_wakeup(const WakeupConfig& config, double clock_overhead_ns) {
    const std::int64_t planned = std::max<std::int64_t>(1, config.duration_ns / config.interval_ns);
    const std::size_t header = (sizeof(WakeupShared) + 63) / 64 * 64;
    Mapping shared =
        Mapping::anonymous(header + sizeof(double) * static_cast<std::size_t>(planned + kWarmupWakeups), true);
    auto* s = new (shared.data()) WakeupShared;
    auto* samples = reinterpret_cast<double*>(static_cast<char*>(shared.data()) + header);
    const std::int64_t capacity = planned + kWarmupWakeups;
    Pipe pipe = Pipe::create();

    std::thread sleeper_thread;
    ChildProcess sleeper_process;
    try {
        if (config.kind == Kind::threads) {
            sleeper_thread = std::thread([&] {
                sleeper_body(*s, samples, capacity, config.channel, pipe.read_end.get(), config.pin_cpu,
                             clock_overhead_ns);
            });
        } else {
            sleeper_process = ChildProcess::fork([&] {
                pipe.write_end.reset();
                sleeper_body(*s, samples, capacity, config.channel, pipe.read_end.get(), config.pin_cpu,
                             clock_overhead_ns);
                return 0;
            });
        }
    } catch (const std::system_error& e) {
        Samples out;
        out.refused = fmt::format("the sleeping {} could not start: {}",
                                  config.kind == Kind::threads ? "thread" : "process", start_failure(e.code().value()));
        s->~WakeupShared();
        return out;
    }
    // Whatever ends the waking early (an error below), the sleeper is told to stop and is joined
    // or reaped before this frame goes: a joinable thread must not outlive its std::thread.
    struct StopSleeper {
        WakeupShared& s;
        const Pipe& pipe;
        std::thread& thread;
        ChildProcess& process;
        bool done = false;
        void now() noexcept {
            if (std::exchange(done, true)) return;
            s.stop.store(1, std::memory_order_release);
            s.word.fetch_add(1, std::memory_order_release);
            futex_shared(&s.word, FUTEX_WAKE, 1);
            const std::int64_t stamp = -1;
            (void)!::write(pipe.write_end.get(), &stamp, sizeof stamp);
            if (thread.joinable()) thread.join();
            if (process.running()) try {
                    if (!process.wait_for(std::chrono::seconds(5))) process.kill_and_wait();
                } catch (...) {  // reaped already: nothing left to do
                }
        }
        ~StopSleeper() { now(); }
    } stop_sleeper{*s, pipe, sleeper_thread, sleeper_process};
    std::optional<ScopedPin> pin;
    if (config.pin_cpu) pin.emplace(*config.pin_cpu);
    while (!s->ready.load(std::memory_order_acquire)) std::this_thread::sleep_for(std::chrono::microseconds(50));

    auto wake = [&](std::uint32_t seq) {
        s->stamp.store(now_ns(), std::memory_order_release);
        s->word.store(seq, std::memory_order_release);
        if (config.channel == Channel::futex) futex_shared(&s->word, FUTEX_WAKE, 1);
        else {
            const std::int64_t stamp = s->stamp.load(std::memory_order_relaxed);
            write_all(pipe.write_end.get(), &stamp, sizeof stamp);
        }
    };
    // The waker also sleeps to absolute deadlines, so the sleeper has long gone back to sleep
    // when the next wake comes; it waits for each answer (up to 100 intervals) before going on.
    Nanos next = now_ns() + config.interval_ns;
    std::uint32_t seq = 0;
    std::int64_t sent = 0;
    for (std::int64_t i = 0; i < planned + kWarmupWakeups; ++i) {
        sleep_until(next);
        wake(++seq);
        ++sent;
        const Nanos give_up = now_ns() + 100 * config.interval_ns;
        while (s->answered.load(std::memory_order_acquire) != seq && now_ns() < give_up) sleep_until(now_ns() + 20'000);
        next = std::max(next + config.interval_ns, now_ns() + config.interval_ns / 2);
    }
    stop_sleeper.now();

    Samples out;
    out.refused = s->refused;
    const std::int64_t n = s->count.load(std::memory_order_acquire);
    for (std::int64_t i = kWarmupWakeups; i < n; ++i) out.ns.push_back(samples[i]);
    out.wakeups_planned = planned;
    out.timer_slack_ns = s->timer_slack_ns;
    out.kernel.known = s->kernel_known;
    out.kernel.unknown_reason = s->kernel_error;
    out.kernel.run_delay_ns = double(s->run_delay_ns);
    out.kernel.switched_in = s->switched_in;
    (void)sent;
    s->~WakeupShared();
    return out;
}

std::optional<std::vector<std::int64_t>> timer_interrupts() {
    const auto text = read_small_file("/proc/interrupts");
    if (!text) return std::nullopt;
    auto v = parse_timer_interrupts(*text);
    if (v.empty()) return std::nullopt;
    return v;
}

std::optional<double> observed_tick_ns(const std::vector<std::int64_t>& before, const std::vector<std::int64_t>& after,
                                       const std::vector<int>& busy_cpus, std::int64_t sleeper_wakeups,
                                       double window_ns) {
    if (busy_cpus.empty() || window_ns <= 0) return std::nullopt;
    std::int64_t total = 0;
    for (int cpu : busy_cpus) {
        const auto i = static_cast<std::size_t>(cpu);
        if (cpu < 0 || i >= before.size() || i >= after.size()) return std::nullopt;
        total += after[i] - before[i];
    }
    const double ticks = double(total - sleeper_wakeups);
    if (ticks < 10.0 * double(busy_cpus.size())) return std::nullopt;
    return window_ns * double(busy_cpus.size()) / ticks;
}

}  // namespace proclab::sched_latency
