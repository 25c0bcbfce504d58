// context_switch: what a switch costs, for claims P2 and T1 of ../shared/seed/claims.md.
//
//   P2  Processes share the cores; the OS hands the CPU from one to the next.
//   T1  A thread is scheduled by the OS on its own, like a process.
//
// Method, the way lmbench (lat_ctx) and perf bench (sched pipe) do it: two endpoints ping-pong a
// token. Endpoints are two processes or two threads of this process; the channel is a pair of
// pipes or a pair of futex words (in MAP_SHARED memory, so it works between processes too); both
// endpoints are pinned to one CPU (every hop is a switch: the pure switch cost) or to two different
// CPUs (every hop is a cross-CPU wake-up). Every round trip is timed on CLOCK_MONOTONIC after a
// warm-up, in several repetitions; the clock's calibrated overhead is subtracted.
//
// Overhead made explicit, as lmbench subtracts it: the same channel used by one thread alone (a
// write and a read of one byte on one pipe; a futex wake with no waiter), which costs the system
// calls but no switch. The report gives the raw hop and the hop less that overhead. A hop is
// checked to be a switch: both endpoints' context-switch counts (/proc/.../status) are read before
// and after, giving switches per hop.
//
// Relation to perf bench: `perf bench sched pipe` prints usecs/op, where an op is a full round trip
// (two hops) between two processes (-T: threads), unpinned; `taskset -c 0 perf bench sched pipe`
// is the same-CPU pipe row here, round-trip column.
//
// A hop that is not a switch is not reported as one: where fewer than 0.9 switches per hop were
// counted (on two CPUs the futex waiter often finds the token before it sleeps), the row shows the
// hop for what it is and no "switch cost" is derived from it. P2 and T1 are decided per
// repetition (each a trial, with its own switch counts) and combined (decide_from_trials).
//
// The CPU pinned to is the allowed one that was idlest over 50 ms just before (from /proc/stat), so
// a busy loop elsewhere on the machine does not share it; the table names it.
//
// Caveats: in a virtual machine a wake-up of an idle virtual CPU goes through the hypervisor and
// is far slower than on bare metal; pinning both endpoints to one CPU avoids that. Frequency
// scaling and other load on the pinned CPU show up as spread.

#include "proclab/affinity.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/demo.hpp"
#include "proclab/handles.hpp"
#include "proclab/interference.hpp"
#include "proclab/render.hpp"
#include "proclab/sched.hpp"
#include "proclab/stats.hpp"
#include "proclab/topology.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <thread>

#include <fmt/format.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace proclab::context_switch {

constexpr double kSwitchesPerHop = 0.9;  // a hop counts as a switch when at least this many were seen

enum class Kind { processes, threads };
enum class Channel { pipe, futex };

const char* name(Kind k) { return k == Kind::processes ? "processes" : "threads"; }
const char* name(Channel c) { return c == Channel::pipe ? "pipe" : "futex"; }

// ---------------------------------------------------------------------------------------------
// The two channels. One hop: the sender hands the token over, then waits for the answer.

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
    // Not FUTEX_PRIVATE_FLAG: the words live in MAP_SHARED memory and may be waited on by two processes.
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

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

// The echo side: answers every token until told to quit.
void echo_loop(Endpoints& e, Channel channel, int cpu) {
    pin_to_cpu(cpu);
    e.words->echo_pid.store(::getpid());
    e.words->echo_tid.store(::gettid());
    if (channel == Channel::pipe) {
        while (auto c = receive_value<char>(e.there.read_end.get())) {
            if (*c == 'q') return;
            send_value(e.back.write_end.get(), *c);
        }
        return;
    }
    for (std::uint32_t expected = 1;; ++expected) {
        std::uint32_t v;
        while ((v = e.words->ping.load(std::memory_order_acquire)) < expected) futex(&e.words->ping, FUTEX_WAIT, v);
        if (v == kQuit) return;
        e.words->pong.store(v, std::memory_order_release);
        futex(&e.words->pong, FUTEX_WAKE, 1);
    }
}

// The initiator side: one round trip, token number i.
void round_trip(Endpoints& e, Channel channel, std::uint32_t i) {
    if (channel == Channel::pipe) {
        send_value(e.there.write_end.get(), char{'p'});
        if (!receive_value<char>(e.back.read_end.get())) throw HarnessError(EPIPE, "echo closed its pipe");
        return;
    }
    e.words->ping.store(i, std::memory_order_release);
    futex(&e.words->ping, FUTEX_WAKE, 1);
    std::uint32_t v;
    while ((v = e.words->pong.load(std::memory_order_acquire)) != i) futex(&e.words->pong, FUTEX_WAIT, v);
}

void stop_echo(Endpoints& e, Channel channel) {
    if (channel == Channel::pipe) {
        send_value(e.there.write_end.get(), char{'q'});
    } else {
        e.words->ping.store(kQuit, std::memory_order_release);
        futex(&e.words->ping, FUTEX_WAKE, 1);
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
            futex(&word, FUTEX_WAKE, 1);  // nobody waits: a system call, no switch
            (void)word.load(std::memory_order_acquire);
            const Nanos t1 = now_ns();
            if (i >= count / 10) samples.push_back(double(t1 - t0));
        }
    }
    return subtract_overhead(samples, clock_overhead);
}

// ---------------------------------------------------------------------------------------------
// One configuration: kind x channel x placement.

struct Config {
    Kind kind;
    Channel channel;
    bool same_cpu;
    int cpu_initiator, cpu_echo;
};

struct Measurement {
    Config config;
    Summary round_trip;               // ns, all repetitions together
    std::vector<double> rep_medians;  // ns, one per repetition
    std::vector<double> rep_switches_per_hop;  // one per repetition; -1 unknown
    double overhead_per_hop = 0;      // ns, the channel alone
    double switches_per_hop = -1;     // -1: unknown
    std::int64_t round_trips = 0;
    double hop() const { return round_trip.median / 2; }
    double hop_corrected() const { return std::max(0.0, hop() - overhead_per_hop); }
    bool is_switch() const { return switches_per_hop >= kSwitchesPerHop; }
};

std::int64_t switches(const TaskSchedStats& s) {
    return s.voluntary_switches >= 0 && s.involuntary_switches >= 0 ? s.voluntary_switches + s.involuntary_switches : -1;
}

Measurement measure(const Config& c, int warmup, int count, int repetitions, double clock_overhead) {
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
            } catch (...) {
            }
            thread->join();
        }
    } join_echo{e, c.channel, thread};
    if (c.kind == Kind::processes) {
        process.emplace(ChildProcess::fork([&] {
            e.there.write_end.reset();
            e.back.read_end.reset();
            echo_loop(e, c.channel, c.cpu_echo);
            return 0;
        }));
    } else {
        thread.emplace([&] { echo_loop(e, c.channel, c.cpu_echo); });
    }
    Measurement m{c, {}, {}, {}, 0, -1, 0};
    {
        ScopedPin pin(c.cpu_initiator);
        std::uint32_t token = 0;
        for (int i = 0; i < warmup; ++i) round_trip(e, c.channel, ++token);
        const std::string echo_dir = fmt::format("/proc/{}/task/{}", e.words->echo_pid.load(), e.words->echo_tid.load());

        std::vector<double> all;
        all.reserve(static_cast<std::size_t>(count * repetitions));
        // Switch counts per repetition (each a trial); the whole run's figure is their sum, so
        // no count is read twice.
        std::int64_t switches_seen = 0;
        bool counts_known = true;
        for (int r = 0; r < repetitions; ++r) {
            const auto me_rep = read_task_stats("/proc/thread-self");
            const auto echo_rep = read_task_stats(echo_dir);
            std::vector<double> rep;
            rep.reserve(static_cast<std::size_t>(count));
            for (int i = 0; i < count; ++i) {
                const Nanos t0 = now_ns();
                round_trip(e, c.channel, ++token);
                const Nanos t1 = now_ns();
                rep.push_back(double(t1 - t0));
            }
            const auto me_rep_after = read_task_stats("/proc/thread-self");
            const auto echo_rep_after = read_task_stats(echo_dir);
            const auto a = switches(me_rep), b = switches(me_rep_after), x = switches(echo_rep), y = switches(echo_rep_after);
            const bool known = a >= 0 && b >= 0 && x >= 0 && y >= 0;
            counts_known = counts_known && known;
            if (known) switches_seen += (b - a) + (y - x);
            m.rep_switches_per_hop.push_back(known ? double((b - a) + (y - x)) / double(2 * count) : -1);
            rep = subtract_overhead(rep, clock_overhead);
            m.rep_medians.push_back(summarize(rep).median);
            all.insert(all.end(), rep.begin(), rep.end());
        }
        m.round_trips = static_cast<std::int64_t>(all.size());
        m.round_trip = summarize(all);
        if (counts_known) m.switches_per_hop = double(switches_seen) / double(2 * m.round_trips);
        stop_echo(e, c.channel);
    }
    if (thread) thread->join();  // it has been told to stop
    if (process) {
        const auto status = process->wait();
        if (!status.exited() || status.exit_code() != 0) throw std::runtime_error("echo process ended: " + status.describe());
    }
    m.overhead_per_hop = summarize(channel_alone(c.channel, std::max(1000, count), clock_overhead)).median;
    return m;
}

// ---------------------------------------------------------------------------------------------
// Verdicts: pure functions of the measurements, unit-tested in tests/unit/test_context_switch.cpp.

const Measurement* find(const std::vector<Measurement>& ms, Kind k, Channel ch, bool same_cpu) {
    for (const auto& m : ms)
        if (m.config.kind == k && m.config.channel == ch && m.config.same_cpu == same_cpu) return &m;
    return nullptr;
}

std::string us(double ns) { return format_value(ns, "ns"); }

ClaimVerdict decide_p2(const std::vector<Measurement>& ms) {
    const Measurement* m = find(ms, Kind::processes, Channel::pipe, true);
    if (!m) return {"P2", Verdict::not_measured, "the same-CPU process ping-pong did not run"};
    if (m->switches_per_hop < 0)
        return {"P2", Verdict::not_measured, "the context-switch counts in /proc/PID/status could not be read"};
    const std::string evidence =
        fmt::format("two processes pinned to one CPU: {:.2f} context switches per hop, {} per hop ({} less the pipe's own "
                    "{}), round trip median {}",
                    m->switches_per_hop, us(m->hop_corrected()), us(m->hop()), us(m->overhead_per_hop), us(m->round_trip.median));
    if (m->switches_per_hop >= kSwitchesPerHop)
        return {"P2", Verdict::confirmed, "the kernel handed the one CPU from process to process at every hop: " + evidence};
    return {"P2", Verdict::nuanced,
            fmt::format("fewer switches than hops (threshold {:.1f} per hop), so some hops found the other side running: {}",
                        kSwitchesPerHop, evidence)};
}

ClaimVerdict decide_t1(const std::vector<Measurement>& ms) {
    const Measurement* t = find(ms, Kind::threads, Channel::pipe, true);
    const Measurement* p = find(ms, Kind::processes, Channel::pipe, true);
    if (!t) return {"T1", Verdict::not_measured, "the same-CPU thread ping-pong did not run"};
    if (t->switches_per_hop < 0)
        return {"T1", Verdict::not_measured, "the threads' context-switch counts in /proc/PID/task/TID/status could not be read"};
    const std::string evidence = fmt::format(
        "two threads of one process pinned to one CPU: {:.2f} switches per hop, {} per hop corrected{}", t->switches_per_hop,
        us(t->hop_corrected()),
        p ? fmt::format(" against {} between processes (thread/process {:.2f})", us(p->hop_corrected()),
                        p->hop_corrected() > 0 ? t->hop_corrected() / p->hop_corrected() : 0.0)
          : "");
    if (t->switches_per_hop >= kSwitchesPerHop)
        return {"T1", Verdict::confirmed, "the kernel switched between the threads as separate tasks, each with its own counts: " + evidence};
    return {"T1", Verdict::nuanced, fmt::format("fewer switches than hops (threshold {:.1f}): {}", kSwitchesPerHop, evidence)};
}

// Repetition r of every measurement, as one trial: its median and its own switch counts.
std::vector<Measurement> trial_view(const std::vector<Measurement>& ms, std::size_t r) {
    std::vector<Measurement> out = ms;
    for (auto& m : out) {
        if (r < m.rep_medians.size()) m.round_trip.median = m.rep_medians[r];
        if (r < m.rep_switches_per_hop.size()) m.switches_per_hop = m.rep_switches_per_hop[r];
    }
    return out;
}

// ---------------------------------------------------------------------------------------------

Result run(const DemoContext& ctx) {
    Result result;
    const auto& cpus = ctx.env.affinity_cpus;
    const int count = ctx.repeat(5000, 1000);
    const int repetitions = ctx.trials();  // each repetition is a trial of P2 and T1
    const int warmup = std::max(200, count / 10);
    result.config.repeat = count;

    // The CPU that was idlest a moment ago: a busy loop elsewhere on the machine does not sit on it.
    const int home = idlest_cpu(cpus);
    const int other = cpus.size() < 2 ? home : (home == cpus[0] ? cpus[1] : cpus[0]);
    std::vector<Measurement> ms;
    for (bool same : {true, false}) {
        if (!same && cpus.size() < 2) continue;
        for (Channel ch : {Channel::pipe, Channel::futex})
            for (Kind k : {Kind::processes, Kind::threads})
                ms.push_back(measure(Config{k, ch, same, home, same ? home : other}, warmup, count, repetitions,
                                     ctx.clock.read_overhead_ns));
    }

    // Where the two CPUs sit relative to each other (core_to_core measures what that path costs).
    const std::string pair_group =
        cpus.size() < 2 ? "" : std::string(to_string(classify(read_topology({home, other}), home, other)));
    auto& t = result.add_table(
        "Ping-pong: one token handed back and forth",
        {"endpoints", "channel", "CPUs", "round trip median", "p99", "hop", "channel alone", "hop corrected", "hop p99",
         "switches/hop", "repetition medians"});
    for (const auto& m : ms) {
        const auto [lo, hi] = std::minmax_element(m.rep_medians.begin(), m.rep_medians.end());
        t.rows.push_back({name(m.config.kind), name(m.config.channel),
                          m.config.same_cpu ? fmt::format("{} (same)", m.config.cpu_initiator)
                                            : fmt::format("{} and {} ({})", m.config.cpu_initiator, m.config.cpu_echo, pair_group),
                          us(m.round_trip.median), us(m.round_trip.p99), us(m.hop()), us(m.overhead_per_hop),
                          m.is_switch() ? us(m.hop_corrected()) : "not a switch", us(m.round_trip.p99 / 2),
                          m.switches_per_hop >= 0 ? fmt::format("{:.2f}", m.switches_per_hop) : "?",
                          fmt::format("{}-{}", us(*lo), us(*hi))});
        const std::string tag = fmt::format("{}_{}_{}", name(m.config.kind), name(m.config.channel), m.config.same_cpu ? "same_cpu" : "cross_cpu");
        result.add_metric("round_trip_" + tag, m.round_trip, "ns", "token round trip (two hops)").headline =
            m.config.same_cpu && m.config.channel == Channel::pipe;
        if (m.is_switch())
            result.add_metric("hop_corrected_" + tag, m.hop_corrected(), "ns", "half a round trip less the channel's own cost: one switch");
        else
            result.add_metric("hop_" + tag, m.hop(), "ns",
                              fmt::format("half a round trip; not a switch ({:.2f} switches per hop)", m.switches_per_hop));
        if (m.switches_per_hop >= 0) result.add_metric("switches_per_hop_" + tag, m.switches_per_hop, "ratio", "context switches per hop");
    }
    t.note = fmt::format(
        "{} repetitions of {} round trips after {} warm-up ones; clock overhead ({}) subtracted per sample. hop = round trip / 2; "
        "'channel alone' = the same system calls by one thread with nobody to switch to (lmbench's subtraction); hop p99 = "
        "round-trip p99 / 2. perf bench sched pipe's usecs/op is the round-trip column. 'not a switch': fewer than {:.1f} switches "
        "per hop were counted (the other side often had answered before this one slept), so the hop is a wake-up or a cache-line "
        "hand-off, not a context switch, and no switch cost is derived from it. The two CPUs' relation is from sysfs; core_to_core "
        "measures a cache line's trip between them, the floor under every two-CPU row.",
        repetitions, count, warmup, format_value(ctx.clock.read_overhead_ns, "ns"), kSwitchesPerHop);

    auto& r = result.add_table("Ratios", {"comparison", "channel", "placement", "ratio of corrected hops"});
    for (Channel ch : {Channel::pipe, Channel::futex}) {
        for (bool same : {true, false}) {
            const auto* p = find(ms, Kind::processes, ch, same);
            const auto* th = find(ms, Kind::threads, ch, same);
            if (p && th && p->is_switch() && th->is_switch() && p->hop_corrected() > 0)
                r.rows.push_back({"threads / processes", name(ch), same ? "same CPU" : "two CPUs",
                                  fmt::format("{:.2f}", th->hop_corrected() / p->hop_corrected())});
        }
        for (Kind k : {Kind::processes, Kind::threads}) {
            const auto* same = find(ms, k, ch, true);
            const auto* cross = find(ms, k, ch, false);
            if (same && cross && same->hop() > 0)
                r.rows.push_back({fmt::format("two CPUs / same CPU ({})", name(k)), name(ch), "-",
                                  fmt::format("{:.2f} (raw hops)", cross->hop() / same->hop())});
        }
    }
    r.note = "Thread/process ratios only where both rows are switches; the two-CPU ratio compares raw hops. A thread switch skips the address-space change (no page-table switch, no TLB flush with PCID), so it can be "
             "a little cheaper; a cross-CPU hop adds a wake-up of the other CPU, which in a virtual machine is costly.";
    if (cpus.size() < 2)
        result.notes.push_back(fmt::format("Cross-CPU placement not measured: only one CPU ({}) is allowed to this process.",
                                           format_cpu_list(cpus)));

    std::vector<ClaimVerdict> p2_trials, t1_trials;
    for (std::size_t r = 0; r < static_cast<std::size_t>(repetitions); ++r) {
        const auto view = trial_view(ms, r);
        p2_trials.push_back(decide_p2(view));
        t1_trials.push_back(decide_t1(view));
    }
    const ClaimVerdict p2 = decide_from_trials(p2_trials), t1 = decide_from_trials(t1_trials);
    result.config.trials = repetitions;
    auto agreed = [](const ClaimVerdict& v) { return fmt::format(" [{} of {} trials]", v.agreeing_trials(), v.trial_verdicts.size()); };
    const auto* pp = find(ms, Kind::processes, Channel::pipe, true);
    const auto* tp = find(ms, Kind::threads, Channel::pipe, true);
    result.add_verdict(p2, pp ? fmt::format("2 processes on 1 CPU: {:.2f} switches per hop, {} per switch", pp->switches_per_hop,
                                            us(pp->hop_corrected())) + agreed(p2)
                              : "");
    result.add_verdict(t1, tp && pp ? fmt::format("2 threads on 1 CPU: {:.2f} switches per hop, {} per switch (processes {})",
                                                  tp->switches_per_hop, us(tp->hop_corrected()), us(pp->hop_corrected())) + agreed(t1)
                                    : "");
    return result;
}

DemoSpec spec() {
    DemoSpec s;
    s.name = "context_switch";
    s.title = "the cost of a context switch: processes vs threads, pipe vs futex, one CPU vs two";
    s.claims = {"P2", "T1"};
    s.default_timeout_s = 120;
    s.run = run;
    return s;
}

}  // namespace proclab::context_switch

PROCLAB_DEMO_MAIN(proclab::context_switch::spec)
