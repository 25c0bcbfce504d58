// thread_memory: claims T3, T4 and T7 of docs/claims.md.
//
//   T3  Threads are independent of each other: each isolates its own sequence of instructions.
//   T4  Threads can reach any object of any other thread.
//   T7  A process's threads have full direct access to its whole address space (the heap);
//       function locals are not accessible.
//
// Method, all in this run:
//   1. Own identity: threads report their kernel tid, the address of a local, and their stack
//      (pthread_getattr_np): separate stacks, some distance apart.
//   2. Independence: a worker does a fixed amount of work alone, then again while one sibling is
//      blocked in read() and another spins; it is not stopped by either.
//   3. Shared memory: one thread writes a global and a heap object; another reads the values.
//   4. Lost updates: N threads add 1 to one counter M times each, (a) by a separate load and store
//      (relaxed atomics: a race on purpose, without undefined behaviour), (b) by fetch_add,
//      (c) under a mutex; the final counts against N x M, and the time per increment.
//   5. Locals: a thread hands another the address of a local on its own stack; the other reads
//      it and writes it, and the owner sees the write.
//   6. The limit of T3: in a child process, one of four threads dereferences a null pointer; the
//      child dies of SIGSEGV, and the other threads' heartbeats stop with it.
//
// Caveats: lost updates need two threads running at once; on one CPU a preemption must land
// between the load and the store, so far fewer (often none) are lost. Stack addresses move with
// ASLR.

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/affinity.hpp"
#include "proclab/demo.hpp"
#include "proclab/fault.hpp"
#include "proclab/work.hpp"
#include "proclab/handles.hpp"
#include "proclab/render.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace proclab::thread_memory {

std::string hex(const void* p) { return fmt::format("{:#x}", reinterpret_cast<std::uintptr_t>(p)); }

// ---------------------------------------------------------------------------------------------
// 1. Own tids and stacks.

struct Identity {
    pid_t tid;
    std::uintptr_t local, stack_low, stack_high;
};

Identity identify() {
    int local = 0;
    Identity id{::gettid(), reinterpret_cast<std::uintptr_t>(&local), 0, 0};
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) == 0) {
        void* base = nullptr;
        std::size_t size = 0;
        ::pthread_attr_getstack(&attr, &base, &size);
        id.stack_low = reinterpret_cast<std::uintptr_t>(base);
        id.stack_high = id.stack_low + size;
        ::pthread_attr_destroy(&attr);
    }
    return id;
}

// ---------------------------------------------------------------------------------------------
// 2. Independence: the worker's fixed work, alone and beside a blocked and a spinning sibling.

struct Independence {
    double alone_ns = 0;           // the worker's fixed job, nothing else of ours running
    double beside_ns = 0;          // the same job beside a blocked and a spinning sibling
    int chunks = 0;                // the job's parts
    int chunks_while_blocked = 0;  // parts done while the blocked sibling was still blocked
    double window_ns = 0;          // how long the siblings were held (until the worker finished, or the deadline)
};

// The worker counts its progress in chunks. The siblings stay blocked and spinning until the
// worker finishes or a deadline (20x the job alone, at least 1 s) passes; only then is the blocked
// one released. Progress made before that is progress a blocked sibling did not stop.
Independence independence(std::uint64_t iterations) {
    constexpr int kChunks = 50;
    Independence r;
    r.chunks = kChunks;
    auto job = [&](std::atomic<int>& done) {
        for (int c = 0; c < kChunks; ++c) {
            (void)busy_work(iterations / kChunks);
            done.fetch_add(1, std::memory_order_release);
        }
    };
    {
        std::atomic<int> done{0};
        const Nanos t0 = now_ns();
        std::thread([&] { job(done); }).join();
        r.alone_ns = double(now_ns() - t0);
    }
    Pipe never = Pipe::create();
    std::atomic<bool> stop{false};
    std::atomic<int> done{0};
    std::thread blocked([&] { (void)receive_value<char>(never.read_end.get()); });  // blocks until released
    std::thread spinning([&] {
        while (!stop.load(std::memory_order_relaxed)) {}
    });
    const Nanos t0 = now_ns();
    const Nanos deadline = t0 + static_cast<Nanos>(std::max(1e9, 20 * r.alone_ns));
    std::thread worker([&] { job(done); });
    while (done.load(std::memory_order_acquire) < kChunks && now_ns() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    r.chunks_while_blocked = done.load(std::memory_order_acquire);
    r.window_ns = double(now_ns() - t0);
    send_value(never.write_end.get(), char{'x'});  // release the blocked sibling
    worker.join();
    r.beside_ns = double(now_ns() - t0);
    stop = true;
    spinning.join();
    blocked.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 3. A write by one thread, read by another.

int g_shared = 0;

struct Sharing {
    bool global_seen = false, heap_seen = false;
    std::string global_addr, heap_addr;
};

Sharing sharing() {
    auto heap = std::make_unique<int>(0);
    std::atomic<bool> written{false};
    Sharing r;
    r.global_addr = hex(&g_shared);
    r.heap_addr = hex(heap.get());
    g_shared = 0;
    std::thread writer([&] {
        g_shared = 42;
        *heap = 4242;
        written.store(true, std::memory_order_release);  // publishes both writes
    });
    std::thread reader([&] {
        while (!written.load(std::memory_order_acquire)) std::this_thread::yield();
        r.global_seen = g_shared == 42;
        r.heap_seen = *heap == 4242;
    });
    writer.join();
    reader.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 4. Lost updates.

struct Counting {
    const char* how;
    std::uint64_t expected = 0, final_count = 0;
    double ns_per_increment = 0;
    std::uint64_t lost() const { return expected - final_count; }
};

template <class Increment>
Counting count_with(const char* how, int threads, std::uint64_t per_thread, const std::vector<int>& cpus,
                    Increment increment) {
    Counting c{how, std::uint64_t(threads) * per_thread, 0, 0};
    std::atomic<std::uint64_t> counter{0};
    std::mutex mutex;
    std::atomic<bool> go{false};
    std::atomic<int> arrived{0}, running{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i)
        ts.emplace_back([&, i] {
            // One thread per CPU where there are enough: two threads left on one CPU take turns
            // of a whole slice each and never race, and the balancer may not part them in time.
            // A CPU that cannot be pinned to (gone offline meanwhile) leaves the thread unpinned:
            // the race still runs, only less surely at once; an exception here would end the process.
            if (cpus.size() > 1) {
                try {
                    pin_to_cpu(cpus[std::size_t(i) % cpus.size()]);
                } catch (const HarnessError&) {}
            }
            arrived.fetch_add(1, std::memory_order_acq_rel);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            // A start line after the go: each counts in, then waits until all are in, so they
            // are all on a CPU at the same moment when the increments begin.
            running.fetch_add(1, std::memory_order_acq_rel);
            while (running.load(std::memory_order_acquire) < threads)
                if (cpus.size() < std::size_t(threads)) std::this_thread::yield();
            for (std::uint64_t k = 0; k < per_thread; ++k) increment(counter, mutex);
        });
    // Every thread is at the start line, spinning, before the go: they start together instead of
    // one finishing its short run before the other has woken (then nothing could be lost).
    while (arrived.load(std::memory_order_acquire) < threads) std::this_thread::yield();
    const Nanos t0 = now_ns();
    go.store(true, std::memory_order_release);
    for (auto& t : ts) t.join();
    c.ns_per_increment = double(now_ns() - t0) / double(c.expected);
    c.final_count = counter.load();
    return c;
}

std::vector<Counting> lost_updates(int threads, std::uint64_t per_thread, const std::vector<int>& cpus) {
    return {
        // A load and a separate store: another thread's increment between them is overwritten.
        // Relaxed atomics make the race well-defined (and sanitizer-clean) without preventing it.
        count_with("load, then store (unsynchronised)", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex&) {
                       c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                   }),
        count_with("atomic fetch_add", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex&) { c.fetch_add(1, std::memory_order_relaxed); }),
        count_with("under a std::mutex", threads, per_thread, cpus,
                   [](std::atomic<std::uint64_t>& c, std::mutex& m) {
                       std::lock_guard lock(m);
                       c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
                   }),
    };
}

// ---------------------------------------------------------------------------------------------
// 5. A local on one thread's stack, read and written by another through its address.

struct LocalReach {
    std::string address, owner_stack;
    int read_by_other = 0, seen_by_owner_after = 0;
};

LocalReach local_reach() {
    LocalReach r;
    std::promise<int*> handed;
    std::promise<void> written;
    std::thread owner([&] {
        int local = 1;  // lives on this thread's stack
        const auto id = identify();
        r.address = hex(&local);
        r.owner_stack = fmt::format("{:#x}-{:#x}", id.stack_low, id.stack_high);
        handed.set_value(&local);
        written.get_future().wait();
        r.seen_by_owner_after = local;  // read after the other thread's write (the future synchronises)
    });
    std::thread other([&] {
        int* p = handed.get_future().get();
        r.read_by_other = *p;
        *p = 2;
        written.set_value();
    });
    other.join();
    owner.join();
    return r;
}

// ---------------------------------------------------------------------------------------------
// 6. One thread's crash ends the process.

// How long the crashing child's threads have to end after the crash before the demo kills it:
// the loop that waits and the table that reports it read this one constant.
constexpr double kCrashDeadlineS = 5;

struct Crash {
    ExitStatus status;
    int threads = 4;
    int beating_before = 0;       // threads that sent heartbeats before the crash
    bool stream_ended = false;    // the heartbeat pipe reached end-of-file: no thread held its write end any more
    bool killed_by_demo = false;  // the child had not died within the deadline: the demo killed it
    // The process died of the fault itself (SIGSEGV or SIGBUS), not of the demo's kill.
    bool died_of_fault() const {
        return !killed_by_demo && status.signaled() && (status.signal() == SIGSEGV || status.signal() == SIGBUS);
    }
};

struct Beat {
    std::int32_t thread;
    std::int32_t crashed;  // 1: the crashing thread says it is about to store to address 0
};

Crash crash_in_one_thread() {
    Crash r;
    Pipe beats = Pipe::create();
    const int threads = r.threads;
    auto child = ChildProcess::fork([&] {
        beats.read_end.reset();
        die_plainly_on_faults();
        std::vector<std::thread> ts;
        for (int i = 0; i < threads; ++i)
            ts.emplace_back([&, i] {
                for (int n = 0;; ++n) {
                    if (i == 0 && n == 20) {
                        send_value(beats.write_end.get(), Beat{i, 1});
                        volatile std::uintptr_t null_address = 0;
                        store_at(null_address);
                    }
                    send_value(beats.write_end.get(), Beat{i, 0});
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            });
        for (auto& t : ts) t.join();  // never: the process dies first
        return 0;
    });
    beats.write_end.reset();
    // The stream ends (EOF) only when every holder of the write end is gone: all the child's threads.
    std::vector<bool> before(std::size_t(threads), false);
    bool crashing = false;
    const Nanos deadline = now_ns() + Nanos(kCrashDeadlineS * 1e9);
    while (now_ns() < deadline) {
        pollfd p{beats.read_end.get(), POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const auto b = receive_value<Beat>(beats.read_end.get());
        if (!b) {
            r.stream_ended = true;
            break;
        }
        if (b->crashed) crashing = true;
        else if (!crashing) before[std::size_t(b->thread)] = true;
    }
    if (!r.stream_ended) {
        r.killed_by_demo = true;
        r.status = child.kill_and_wait();
    } else {
        r.status = child.wait();
    }
    r.beating_before = int(std::count(before.begin(), before.end(), true));
    return r;
}

// ---------------------------------------------------------------------------------------------
// The rules: pure functions, unit-tested in tests/unit/test_thread_demos.cpp.

struct Evidence {
    int threads = 0, distinct_tids = 0;
    bool stacks_disjoint = false;
    double min_stack_distance = 0;
    Independence independence;
    Sharing sharing;
    int counting_threads = 0;
    std::vector<Counting> counting;  // racy, atomic, mutex
    LocalReach local;
    Crash crash;
};

constexpr const char* kT3Test =
    "T3 is nuanced when one thread's fault ends the process, refuted when threads share an id or stop";
constexpr const char* kT4Test = "T4 is nuanced by lost unsynchronised updates, refuted if synchronised ones are lost";
constexpr const char* kT7Test = "T7 is nuanced when another thread reaches a local through its address";

const RuleInfo kT3Rule{
    .claim = "T3",
    .evidence =
        "N threads' kernel ids and stacks; a worker's fixed job run beside a sibling blocked in read() and a spinning "
        "one, its "
        "progress counted while the blocked one stayed blocked; one thread of four faulting in a child process",
    .refuted_by =
        "two threads with one kernel id or overlapping stacks, or a worker that made no progress while a sibling was "
        "blocked",
    .guarantee = true,
    .outcomes = {
        {.verdict = Verdict::nuanced,
         .when =
             "own ids, own stacks, progress beside a blocked sibling, but one thread's fault ends the whole process "
             "(Linux, every time: a fault signal is the process's)",
         .reached_by = kT3Test},
        {.verdict = Verdict::refuted,
         .when = "a shared id, overlapping stacks, or no progress while a sibling was blocked",
         .reached_by = kT3Test},
        {.verdict = Verdict::not_measured,
         .when = "the fault could not be provoked within its deadline (the demo killed the child)",
         .reached_by = kT3Test}}};

const RuleInfo kT4Rule{
    .claim = "T4",
    .evidence =
        "one thread's writes to a global and a heap object, read by another; N threads incrementing one counter by a "
        "separate load "
        "and store, by fetch_add and under a mutex, the final counts against N x M",
    .refuted_by =
        "another thread not seeing a write it was handed, or synchronised increments (fetch_add, a mutex) losing "
        "updates",
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "writes seen, and no increment lost, synchronised or not (the threads never raced)",
         .reached_by = kT4Test},
        {.verdict = Verdict::nuanced,
         .when = "writes seen; unsynchronised increments lost, synchronised ones not (threads running at once)",
         .reached_by = kT4Test},
        {.verdict = Verdict::refuted,
         .when = "a write not seen, or a synchronised increment lost",
         .reached_by = kT4Test},
        {.verdict = Verdict::not_measured, .when = "the counting did not run", .reached_by = kT4Test}}};

const RuleInfo kT7Rule{
    .claim = "T7",
    .evidence =
        "a global and a heap object written by one thread and read by another; a local on one thread's stack whose "
        "address is "
        "handed to another thread, which reads and writes it",
    .refuted_by = "a heap object or global one thread cannot see another's write to",
    .guarantee = true,
    .outcomes = {
        {.verdict = Verdict::confirmed,
         .when = "heap and globals shared, and a local unreachable by address (not on Linux: one address space)",
         .reached_by = kT7Test},
        {.verdict = Verdict::nuanced,
         .when = "heap and globals shared, and a local read and written by another thread through its address: private "
                 "by name, not by protection",
         .reached_by = kT7Test},
        {.verdict = Verdict::refuted,
         .when = "a write to the heap or a global not seen by another thread",
         .reached_by = kT7Test}}};

namespace {
const char* kIdentity =
    "{threads:count thread}: {distinct_tids} distinct tids, stacks disjoint: {stacks_disjoint}, at least "
    "{min_stack_distance} apart";
}  // namespace

Decision decide_t3(const Evidence& e) {
    Rule rule(kT3Rule);
    rule.use(count_fact("threads", e.threads, "threads started"));
    rule.use(count_fact("distinct_tids", e.distinct_tids, "distinct kernel thread ids among them"));
    rule.use(flag_fact("stacks_disjoint", e.stacks_disjoint, "no two of their stacks overlap"));
    rule.use(number_fact("min_stack_distance", e.min_stack_distance, "bytes",
                         "the least distance between two of their locals"));
    const auto& in = e.independence;
    rule.use(number_fact("job_alone", in.alone_ns, "ns", "a worker's fixed job, alone"));
    rule.use(count_fact("chunks", in.chunks, "the job's parts"));
    rule.use(count_fact("chunks_while_blocked", in.chunks_while_blocked,
                        "parts the worker finished while a sibling was blocked in read() and another spun"));
    rule.use(number_fact("window", in.window_ns, "ns", "how long the siblings were held blocked and spinning"));
    const std::string independent =
        "a worker finished {chunks_while_blocked} of its {chunks} parts in {window} while a sibling was "
        "blocked in read() and another spun (the whole job alone: {job_alone})";
    if (e.distinct_tids < e.threads || !e.stacks_disjoint)
        return rule.refuted(std::string("threads without their own identity: ") + kIdentity,
                            "{distinct_tids} tids for {threads:count thread}");
    if (in.chunks_while_blocked == 0)
        return rule.refuted("blocking one thread held another back: " + independent,
                            "no progress beside a blocked sibling");
    const auto& c = e.crash;
    rule.use(count_fact("crash_threads", c.threads, "threads in the child where one faults"));
    rule.use(text_fact("crash_status", c.status.describe(), "how the child ended"));
    if (!c.died_of_fault())
        return rule.not_measured(std::string(kIdentity) + "; " + independent +
                                     "; but the fault in one thread could not be provoked "
                                     "(the child ended: {crash_status})",
                                 "{distinct_tids} tids, own stacks; the fault was not provoked");
    rule.use(
        text_fact("fault_signal", signal_name(c.status.signal()), "the signal the faulting thread's process died of"));
    rule.use(flag_fact("heartbeat_stream_ended", c.stream_ended, "the threads' heartbeat pipe reached end-of-file"));
    rule.use(count_fact("beating_before", c.beating_before, "threads that sent heartbeats before the fault"));
    return rule.nuanced(
        std::string(kIdentity) + "; " + independent +
            "; but they are not isolated: a {fault_signal} in one thread ended "
            "the whole process ({crash_status}), and its heartbeat pipe reached end-of-file, so no thread of the "
            "{crash_threads} ({beating_before} beating before) held it open any more",
        "{distinct_tids} tids, own stacks, progress beside a blocked sibling; one thread's {fault_signal} ended the "
        "process");
}

Decision decide_t4(const Evidence& e) {
    Rule rule(kT4Rule);
    rule.use(text_fact("global_address", e.sharing.global_addr, "the global's address"));
    rule.use(text_fact("heap_address", e.sharing.heap_addr, "the heap object's address"));
    const bool seen =
        rule.flag(flag_fact("writes_seen", e.sharing.global_seen && e.sharing.heap_seen,
                            "another thread read what one thread wrote to the global and the heap object"));
    if (!seen)
        return rule.refuted(
            "a write by one thread to the global ({global_address}) or the heap object ({heap_address}) was not seen "
            "by another",
            "a write not seen by another thread");
    if (e.counting.size() < 3) return rule.not_measured("the counting experiment did not run");
    const auto& racy = e.counting[0];
    const auto& atomic = e.counting[1];
    const auto& locked = e.counting[2];
    rule.use(count_fact("counting_threads", e.counting_threads, "threads incrementing one counter"));
    rule.use(count_fact("increments_per_thread", long(racy.expected / std::uint64_t(std::max(1, e.counting_threads))),
                        "increments each"));
    rule.use(count_fact("expected", long(racy.expected), "increments in all"));
    rule.use(count_fact("racy_final", long(racy.final_count), "the counter after load-then-store increments"));
    rule.use(count_fact("updates_lost_racy", long(racy.lost()), "load-then-store increments lost"));
    rule.use(number_fact("racy_lost_share", double(racy.lost()) / double(std::max<std::uint64_t>(1, racy.expected)),
                         "fraction", "their share"));
    rule.use(count_fact("atomic_final", long(atomic.final_count), "the counter after fetch_add increments"));
    rule.use(count_fact("updates_lost_atomic", long(atomic.lost()), "fetch_add increments lost"));
    rule.use(count_fact("mutex_final", long(locked.final_count), "the counter after increments under a mutex"));
    rule.use(count_fact("updates_lost_mutex", long(locked.lost()), "increments under a mutex lost"));
    const std::string evidence =
        "one thread's writes to a global ({global_address}) and a heap object ({heap_address}) were read by another; "
        "{counting_threads:count thread} x {increments_per_thread:count increment} of one counter: load-then-store "
        "ended at "
        "{racy_final} "
        "({updates_lost_racy} lost, {racy_lost_share}), fetch_add at {atomic_final} ({updates_lost_atomic} lost), a "
        "mutex at "
        "{mutex_final} ({updates_lost_mutex} lost)";
    const std::string summary =
        "another thread's writes seen; load-then-store increments lost {updates_lost_racy} of {expected}, "
        "fetch_add {updates_lost_atomic}, a mutex {updates_lost_mutex}";
    if (atomic.lost() > 0 || locked.lost() > 0)
        return rule.refuted("synchronised updates were lost: " + evidence, summary);
    if (racy.lost() > 0)
        return rule.nuanced(
            evidence + ": the objects are reachable, but reaching one without synchronisation loses updates", summary);
    return rule.confirmed(evidence + ": no increment was lost, so the threads did not race in this run", summary);
}

Decision decide_t7(const Evidence& e) {
    Rule rule(kT7Rule);
    const bool heap_shared = rule.flag(flag_fact("heap_shared", e.sharing.global_seen && e.sharing.heap_seen,
                                                 "another thread read what one thread wrote to a global and the heap"));
    if (!heap_shared)
        return rule.refuted("a write to a global or the heap by one thread was not seen by another", "heap not shared");
    rule.use(text_fact("local_address", e.local.address, "a local's address on its owner's stack"));
    rule.use(text_fact("owner_stack", e.local.owner_stack, "the owner thread's stack"));
    rule.use(
        count_fact("local_read_by_other", e.local.read_by_other, "what the other thread read there (the owner set 1)"));
    rule.use(
        count_fact("local_seen_by_owner", e.local.seen_by_owner_after, "what the owner read after the other wrote 2"));
    const bool reached =
        rule.flag(flag_fact("local_reached", e.local.read_by_other == 1 && e.local.seen_by_owner_after == 2,
                            "the other thread read the owner's value and the owner saw the other's write"));
    const std::string evidence =
        "heap and globals shared: {heap_shared}; a local at {local_address} on one thread's stack "
        "({owner_stack}) was read by another thread (it saw {local_read_by_other}) and written (the owner "
        "then saw {local_seen_by_owner})";
    if (reached)
        return rule.nuanced(
            evidence + ": locals are private by name, not by protection; any thread with the address reaches them",
            "heap shared; a stack local read ({local_read_by_other}) and written ({local_seen_by_owner}) by another "
            "thread through its address");
    return rule.confirmed(evidence, "heap shared; a stack local out of another thread's reach");
}

// ---------------------------------------------------------------------------------------------

std::vector<DemoOption> options() {
    return {{.name = "--threads",
             .help = "Threads in every experiment, 2 to 256",
             .type_name = "N",
             .check = CLI::Range(2, 256),
             .default_words = "the allowed CPUs, at least 4"}};
}

// N threads alive at once, each telling who it is (so no tid is reused among them).
std::vector<Identity> identities(int threads) {
    std::vector<Identity> ids(static_cast<std::size_t>(threads));
    std::vector<std::thread> ts;
    std::atomic<int> arrived{0};
    for (int i = 0; i < threads; ++i)
        ts.emplace_back([&, i] {
            ids[std::size_t(i)] = identify();
            arrived.fetch_add(1);
            while (arrived.load() < threads) std::this_thread::yield();  // all alive at once: no reuse
        });
    for (auto& t : ts) t.join();
    return ids;
}

// T3's identity facts: distinct tids, stacks that do not overlap.
void judge_identities(Evidence& e, const std::vector<Identity>& ids) {
    std::vector<pid_t> tids;
    for (const auto& id : ids) tids.push_back(id.tid);
    std::sort(tids.begin(), tids.end());
    e.distinct_tids = int(std::unique(tids.begin(), tids.end()) - tids.begin());
    auto sorted = ids;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.stack_low < b.stack_low; });
    e.stacks_disjoint = true;
    e.min_stack_distance = 1e30;
    for (std::size_t i = 0; i + 1 < sorted.size(); ++i) {
        if (sorted[i].stack_high > sorted[i + 1].stack_low) e.stacks_disjoint = false;
        e.min_stack_distance = std::min(e.min_stack_distance, double(sorted[i + 1].local) - double(sorted[i].local));
    }
}

// ---------------------------------------------------------------------------------------------
// The report: one table per experiment, from the evidence.

void add_identity_table(Result& result, const Identity& main_id, const std::vector<Identity>& ids) {
    auto& it = result.add_table("1. Each thread: its own kernel id and its own stack",
                                {"thread", {"tid", "count"}, "&local", "stack", {"stack size", "bytes"}});
    auto row = [&](std::string who, const Identity& id) {
        it.rows.push_back({std::move(who), double(id.tid), fmt::format("{:#x}", id.local),
                           fmt::format("{:#x}-{:#x}", id.stack_low, id.stack_high),
                           double(id.stack_high - id.stack_low)});
    };
    row("main", main_id);
    for (std::size_t i = 0; i < ids.size(); ++i) row(std::to_string(i + 1), ids[i]);
    it.note = "Each thread's locals live on its own stack (glibc maps one per thread, with a guard page between).";
}

void add_independence_table(Result& result, const Independence& in, int cpus) {
    auto& indep =
        result.add_table("2. One thread blocked, one spinning: does the third get on?",
                         {"the worker's fixed job", {"parts done", "count"}, {"of", "count"}, {"wall time", "ns"}});
    indep.rows.push_back({"alone", double(in.chunks), double(in.chunks), in.alone_ns});
    indep.rows.push_back({"while a sibling is blocked in read() and another spins", double(in.chunks_while_blocked),
                          double(in.chunks), in.window_ns});
    indep.note = fmt::format(
        "The siblings are held until the worker finishes or 20x the job alone (at least 1 s) has passed; only "
        "then is the blocked one released. With {} CPU{} the spinning sibling competes for a CPU; the blocked one "
        "takes none.",
        cpus, cpus == 1 ? "" : "s");
}

void add_counting_table(Result& result, const Evidence& e, std::uint64_t per_thread) {
    auto& ct = result.add_table(
        fmt::format("3. {} threads x {} increments of one shared counter", e.counting_threads, per_thread),
        {"how",
         {"expected", "count"},
         {"final", "count"},
         {"lost", "count"},
         {"lost share", "fraction"},
         {"time per increment", "ns"}});
    for (const auto& c : e.counting)
        ct.rows.push_back({c.how, double(c.expected), double(c.final_count), double(c.lost()),
                           double(c.lost()) / double(c.expected), c.ns_per_increment});
    ct.note =
        "Before this, one thread wrote 42 to a global and 4242 to a heap object; whether another thread read them is "
        "T4's "
        "fact 'writes_seen'. Reaching is free; agreeing costs: the atomic and the mutex pay for every increment.";
    result.add_metric("lost_updates_unsynchronised", double(e.counting[0].lost()), "count",
                      "increments lost by load-then-store");
    result.add_metric("ns_per_increment_racy", e.counting[0].ns_per_increment, "ns", "load-then-store");
    result.add_metric("ns_per_increment_atomic", e.counting[1].ns_per_increment, "ns", "fetch_add");
    result.add_metric("ns_per_increment_mutex", e.counting[2].ns_per_increment, "ns", "std::mutex");
}

void add_local_and_crash_tables(Result& result, const Evidence& e) {
    auto& lt = result.add_table(
        "4. A local on one thread's stack, reached by another through its address",
        {"address", "owner's stack", {"the other thread read", "count"}, {"the owner saw afterwards", "count"}});
    lt.rows.push_back(
        {e.local.address, e.local.owner_stack, double(e.local.read_by_other), double(e.local.seen_by_owner_after)});
    lt.note = "The owner set it to 1; the other thread read it, then wrote 2, and the owner read it again.";
    auto& cr = result.add_table(
        "5. One thread of four dereferences a null pointer (in a child process)",
        {"child process ended", {"threads beating before the fault", "count"}, "heartbeat pipe at end-of-file"});
    cr.rows.push_back({e.crash.status.describe() +
                           (e.crash.killed_by_demo ? fmt::format(" (by the demo, after {:g} s)", kCrashDeadlineS) : ""),
                       double(e.crash.beating_before), e.crash.stream_ended ? "yes" : "no"});
    cr.note =
        "Each thread wrote a heartbeat to a pipe every millisecond; the pipe reaches end-of-file only when no thread "
        "holds "
        "its write end any more. A signal from a fault is delivered to the process, and its default action ends every "
        "thread in it.";
}

// The plan: identities, independence, sharing and lost updates, a local reached, a crash; then
// the tables and the three rules.
// Every option resolved before anything is measured.
struct Setup {
    int threads = 4;                                 // identities (--threads; default: the allowed CPUs, at least 4)
    std::uint64_t independence_steps = 100'000'000;  // each thread's own loop (--quick: 20 million)
    // Long enough that the threads overlap for many scheduler ticks, not just their first microseconds.
    std::uint64_t increments_per_thread = 0;  // --repeat
    int counting_threads = 2;                 // the allowed CPUs, at least 2, at most kMostCountingThreads
};

// The increments of every counting thread queue for one cache line, so the race's time grows with
// the threads (N x --repeat increments, each a trip of the line), not only its evidence: 256
// threads x 5 million would take minutes. 16 threads at once already lose most of their updates.
constexpr int kMostCountingThreads = 16;

Setup read_setup(const DemoContext& ctx) {
    const int cpus = static_cast<int>(ctx.env.affinity_cpus.size());
    Setup s;
    s.threads = ctx.values.given("--threads") ? static_cast<int>(ctx.values.integer("--threads")) : std::max(4, cpus);
    if (ctx.options.quick) s.independence_steps = 20'000'000;
    s.increments_per_thread = std::uint64_t(ctx.repeat());
    s.counting_threads = std::clamp(cpus, 2, kMostCountingThreads);
    return s;
}

Result run(const DemoContext& ctx) {
    const Setup setup = read_setup(ctx);
    Evidence e;
    e.threads = setup.threads;
    const auto ids = identities(e.threads);
    judge_identities(e, ids);
    e.independence = independence(setup.independence_steps);
    e.sharing = sharing();
    e.counting_threads = setup.counting_threads;
    e.counting = lost_updates(e.counting_threads, setup.increments_per_thread, ctx.env.affinity_cpus);
    e.local = local_reach();
    e.crash = crash_in_one_thread();

    Result result;
    result.config.repeat = int(setup.increments_per_thread);
    add_identity_table(result, identify(), ids);
    add_independence_table(result, e.independence, static_cast<int>(ctx.env.affinity_cpus.size()));
    add_counting_table(result, e, setup.increments_per_thread);
    add_local_and_crash_tables(result, e);
    result.add_decision(decide_t3(e));
    result.add_decision(decide_t4(e));
    result.add_decision(decide_t7(e));
    return result;
}

DemoSpec spec() {
    return DemoSpec{
        .name = "thread_memory",
        .title = "threads: own tids and stacks, one shared address space (locals included), lost updates, shared fate",
        .claims = {"T3", "T4", "T7"},
        .rules = {kT3Rule, kT4Rule, kT7Rule},
        .default_timeout_s = 120,
        .repeat = RepeatSpec{.counts = "Unsynchronized increments each thread makes in the lost-update race",
                             .full = 5'000'000,
                             .quick = 2'000'000},
        .options = options(),
        .run = run,
    };
}

}  // namespace proclab::thread_memory

PROCLAB_DEMO_MAIN(proclab::thread_memory::spec)
