#include "context_switch/pingpong.hpp"

#include "proclab/perf_counters.hpp"
#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/futex.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"
#include "proclab/sched.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::context_switch {

const Measurement* find(const std::vector<Measurement>& ms, Kind k, Channel ch, bool same_cpu) {
    for (const auto& m : ms)
        if (m.config.kind == k && m.config.channel == ch && m.config.same_cpu == same_cpu && m.config.working_set == 0)
            return &m;
    return nullptr;
}

std::string floor_check(double hop_ns, bool same_cpu, std::optional<double> line_one_way_ns, double tolerance) {
    if (same_cpu || !line_one_way_ns || hop_ns >= *line_one_way_ns * (1 - tolerance)) return "";
    return fmt::format("implausible: {} is below its floor, a cache line's one-way trip between the CPUs ({})",
                       format_value(hop_ns, "ns"), format_value(*line_one_way_ns, "ns"));
}

const char* name(Kind k) { return k == Kind::processes ? "processes" : "threads"; }
const char* name(Channel c) { return c == Channel::pipe ? "pipe" : "futex"; }

std::uint64_t touch(const std::byte* data, std::size_t bytes) {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < bytes; i += 64) sum += static_cast<std::uint64_t>(data[i]);
    return sum;
}

namespace {

// The sums of the passes land here, so no pass can be optimised away.
std::atomic<std::uint64_t> g_touch_sink{0};

// A working set with every page faulted in (each endpoint allocates its own, after the fork).
std::vector<std::byte> working_set(std::size_t bytes) {
    std::vector<std::byte> w(bytes);
    for (std::size_t i = 0; i < bytes; ++i) w[i] = std::byte(i * 131);
    return w;
}

// ---------------------------------------------------------------------------------------------
// The two channels. One hop: the sender hands the token over, then waits for the answer.

struct SharedWords {
    std::atomic<std::uint32_t> ping{0};
    std::atomic<std::uint32_t> pong{0};
    std::atomic<std::int32_t> echo_tid{0};
    std::atomic<std::int32_t> echo_pid{0};
};

constexpr std::uint32_t kQuit = UINT32_MAX;

struct Endpoints {
    Pipe there, back;  // pipe channel
    Mapping memory;    // futex channel (and the echo's ids for both)
    SharedWords* words = nullptr;

    Endpoints() : there(Pipe::create()), back(Pipe::create()), memory(Mapping::anonymous(4096, true)) {
        words = new (memory.data()) SharedWords{};
    }
};

// The echo side: answers every token until told to quit, reading its working set at each arrival.
void echo_loop(Endpoints& e, Channel channel, int cpu, std::size_t working_set_bytes) {
    pin_to_cpu(cpu);
    const auto mine = working_set(working_set_bytes);
    std::uint64_t sum = 0;
    e.words->echo_pid.store(::getpid());
    e.words->echo_tid.store(::gettid());
    if (channel == Channel::pipe) {
        while (auto c = receive_value<char>(e.there.read_end.get())) {
            if (*c == 'q') break;
            sum += touch(mine.data(), mine.size());
            send_value(e.back.write_end.get(), *c);
        }
    } else {
        for (std::uint32_t expected = 1;; ++expected) {
            std::uint32_t v;
            while ((v = e.words->ping.load(std::memory_order_acquire)) < expected)
                futex_shared(&e.words->ping, FUTEX_WAIT, v);
            if (v == kQuit) break;
            sum += touch(mine.data(), mine.size());
            e.words->pong.store(v, std::memory_order_release);
            futex_shared(&e.words->pong, FUTEX_WAKE, 1);
        }
    }
    g_touch_sink.fetch_add(sum, std::memory_order_relaxed);
}

// The initiator side: one round trip, token number i, then a pass over its own working set.
std::uint64_t round_trip(Endpoints& e, Channel channel, std::uint32_t i, const std::vector<std::byte>& mine) {
    if (channel == Channel::pipe) {
        send_value(e.there.write_end.get(), char{'p'});
        if (!receive_value<char>(e.back.read_end.get())) throw HarnessError(EPIPE, "echo closed its pipe");
    } else {
        e.words->ping.store(i, std::memory_order_release);
        futex_shared(&e.words->ping, FUTEX_WAKE, 1);
        std::uint32_t v;
        while ((v = e.words->pong.load(std::memory_order_acquire)) != i) futex_shared(&e.words->pong, FUTEX_WAIT, v);
    }
    return touch(mine.data(), mine.size());
}

void stop_echo(Endpoints& e, Channel channel) {
    if (channel == Channel::pipe) {
        send_value(e.there.write_end.get(), char{'q'});
    } else {
        e.words->ping.store(kQuit, std::memory_order_release);
        futex_shared(&e.words->ping, FUTEX_WAKE, 1);
    }
}

// The channel's cost without a switch: one thread alone, per hop.
std::vector<double> channel_alone(Channel channel, int count, double clock_overhead) {
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    if (channel == Channel::pipe) {
        Pipe p = Pipe::create();
        char c = 'x';
        for (int i = 0; i < count + count / 10; ++i) {
            const Nanos t0 = now_ns();
            send_value(p.write_end.get(), c);
            (void)receive_value<char>(p.read_end.get());
            const Nanos t1 = now_ns();
            if (i >= count / 10) samples.push_back(double(t1 - t0));
        }
    } else {
        std::atomic<std::uint32_t> word{0};
        for (int i = 0; i < count + count / 10; ++i) {
            const Nanos t0 = now_ns();
            word.store(static_cast<std::uint32_t>(i), std::memory_order_release);
            futex_shared(&word, FUTEX_WAKE, 1);  // nobody waits: a system call, no switch
            (void)word.load(std::memory_order_acquire);
            const Nanos t1 = now_ns();
            if (i >= count / 10) samples.push_back(double(t1 - t0));
        }
    }
    return subtract_overhead(samples, clock_overhead);
}

std::int64_t switches(const TaskSchedStats& s) {
    return s.voluntary_switches >= 0 && s.involuntary_switches >= 0 ? s.voluntary_switches + s.involuntary_switches
                                                                    : -1;
}

}  // namespace

double measure_touch_alone(std::size_t bytes, double clock_overhead_ns) {
    if (bytes == 0) return 0;
    const auto mine = working_set(bytes);
    std::vector<double> samples;
    std::uint64_t sum = 0;
    for (int i = 0; i < 23; ++i) {
        const Nanos t0 = now_ns();
        sum += touch(mine.data(), mine.size());
        const Nanos t1 = now_ns();
        if (i >= 3) samples.push_back(double(t1 - t0));  // the first passes bring it into the cache
    }
    g_touch_sink.fetch_add(sum, std::memory_order_relaxed);
    return summarize(subtract_overhead(samples, clock_overhead_ns)).median;
}

Measurement measure(const Config& c, const Counts& counts, double clock_overhead) {
    Endpoints e;
    std::optional<ChildProcess> process;
    std::optional<std::thread> thread;
    // On any exit, an error included, the echo thread is told to stop and joined (a joinable
    // std::thread destroyed would end the process); an echo process is killed by its handle.
    struct JoinEcho {
        Endpoints& e;
        Channel channel;
        std::optional<std::thread>& thread;
        ~JoinEcho() {
            if (!thread || !thread->joinable()) return;
            try {
                stop_echo(e, channel);
            } catch (...) {}
            thread->join();
        }
    } join_echo{e, c.channel, thread};
    if (c.kind == Kind::processes) {
        process.emplace(ChildProcess::fork([&] {
            e.there.write_end.reset();
            e.back.read_end.reset();
            echo_loop(e, c.channel, c.cpu_echo, c.working_set);
            return 0;
        }));
    } else {
        thread.emplace([&] { echo_loop(e, c.channel, c.cpu_echo, c.working_set); });
    }
    Measurement m;
    m.config = c;
    {
        ScopedPin pin(c.cpu_initiator);
        const auto mine = working_set(c.working_set);
        std::uint64_t sum = 0;
        std::uint32_t token = 0;
        for (int i = 0; i < counts.warmup; ++i) sum += round_trip(e, c.channel, ++token, mine);
        const std::string echo_dir =
            fmt::format("/proc/{}/task/{}", e.words->echo_pid.load(), e.words->echo_tid.load());

        std::vector<double> all;
        all.reserve(static_cast<std::size_t>(counts.round_trips * counts.repetitions));
        // Switch counts per repetition (each a trial); the whole run's figure is their sum, so
        // no count is read twice.
        std::int64_t switches_seen = 0;
        bool counts_known = true;
        for (int r = 0; r < counts.repetitions; ++r) {
            const auto me_rep = read_task_stats("/proc/thread-self");
            const auto echo_rep = read_task_stats(echo_dir);
            std::vector<double> rep;
            rep.reserve(static_cast<std::size_t>(counts.round_trips));
            for (int i = 0; i < counts.round_trips; ++i) {
                const Nanos t0 = now_ns();
                sum += round_trip(e, c.channel, ++token, mine);
                const Nanos t1 = now_ns();
                rep.push_back(double(t1 - t0));
            }
            const auto me_rep_after = read_task_stats("/proc/thread-self");
            const auto echo_rep_after = read_task_stats(echo_dir);
            const auto a = switches(me_rep), b = switches(me_rep_after), x = switches(echo_rep),
                       y = switches(echo_rep_after);
            const bool known = a >= 0 && b >= 0 && x >= 0 && y >= 0;
            counts_known = counts_known && known;
            if (known) switches_seen += (b - a) + (y - x);
            m.rep_switches_per_hop.push_back(known ? double((b - a) + (y - x)) / double(2 * counts.round_trips) : -1);
            rep = subtract_overhead(rep, clock_overhead);
            m.rep_medians.push_back(summarize(rep).median);
            all.insert(all.end(), rep.begin(), rep.end());
        }
        // The kernel's own counts for this thread, in a pass of their own (untimed).
        {
            PerfCounters counters;
            if (counters.available(PerfEvent::context_switches)) {
                const int n = std::max(1, std::min(kCountedRoundTrips, counts.round_trips / 10));
                counters.start();
                for (int i = 0; i < n; ++i) sum += round_trip(e, c.channel, ++token, mine);
                const PerfCounts k = counters.stop();
                m.counted_round_trips = n;
                m.initiator_switches = k.per_operation(PerfEvent::context_switches, n);
                m.initiator_migrations = k.per_operation(PerfEvent::cpu_migrations, n);
                m.initiator_faults = k.per_operation(PerfEvent::page_faults, n);
            } else {
                m.counters_unavailable = counters.unavailable_reason(PerfEvent::context_switches);
            }
        }
        g_touch_sink.fetch_add(sum, std::memory_order_relaxed);
        m.round_trips = static_cast<std::int64_t>(all.size());
        m.round_trip = summarize(all);
        if (counts_known) m.switches_per_hop = double(switches_seen) / double(2 * m.round_trips);
        stop_echo(e, c.channel);
    }
    if (thread) thread->join();  // it has been told to stop
    if (process) {
        const auto status = process->wait();
        if (!status.exited() || status.exit_code() != 0)
            throw std::runtime_error("echo process ended: " + status.describe());
    }
    m.overhead_per_hop = summarize(channel_alone(c.channel, std::max(1000, counts.round_trips), clock_overhead)).median;
    {
        ScopedPin pin(c.cpu_initiator);
        m.touch_alone = measure_touch_alone(c.working_set, clock_overhead);
    }
    return m;
}

}  // namespace proclab::context_switch
