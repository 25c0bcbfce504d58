#include "creation_cost/thread_pool.hpp"

#include <algorithm>
#include <stdexcept>

#include <sched.h>

namespace proclab {
namespace detail {

TaskQueue::TaskQueue(std::size_t capacity_pow2) : cells_(new Cell[capacity_pow2]), mask_(capacity_pow2 - 1) {
    if (capacity_pow2 < 2 || (capacity_pow2 & mask_) != 0)
        throw std::invalid_argument("queue capacity must be a power of two");
    for (std::size_t i = 0; i < capacity_pow2; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
}

bool TaskQueue::try_push(Task& task) {
    std::size_t pos = enqueue_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
        cell = &cells_[pos & mask_];
        const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
        const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
        if (diff == 0) {
            if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
        } else if (diff < 0) {
            return false;  // full
        } else {
            pos = enqueue_.load(std::memory_order_relaxed);
        }
    }
    cell->task = std::move(task);
    cell->sequence.store(pos + 1, std::memory_order_release);
    return true;
}

bool TaskQueue::try_pop(Task& out) {
    std::size_t pos = dequeue_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
        cell = &cells_[pos & mask_];
        const std::size_t seq = cell->sequence.load(std::memory_order_acquire);
        const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
        if (diff == 0) {
            if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
        } else if (diff < 0) {
            return false;  // empty
        } else {
            pos = dequeue_.load(std::memory_order_relaxed);
        }
    }
    out = std::move(cell->task);
    cell->sequence.store(pos + mask_ + 1, std::memory_order_release);
    return true;
}

}  // namespace detail

namespace detail {
// The CPU's spin-wait hint: PAUSE on x86, YIELD on arm64 (both stay in user space); elsewhere
// sched_yield, a system call, which a spinner can afford less.
void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#else
    std::this_thread::yield();
#endif
}
}  // namespace detail

namespace {
inline void cpu_relax() { detail::spin_pause(); }

// One worker per allowed CPU but one: the thread that submits and waits runs tasks too (as in
// oneTBB), and a worker more than CPUs would spin against it.
int allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpus = static_cast<int>(std::thread::hardware_concurrency());
    if (::sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    return std::max(1, cpus);
}

unsigned default_threads() { return static_cast<unsigned>(std::max(1, allowed_cpus() - 1)); }
}  // namespace

// ---------------------------------------------------------------------------------------------

TaskGroup::~TaskGroup() {
    try {
        wait();
    } catch (...) {
        // The owner did not wait; the exception has nowhere to go.
    }
}

void TaskGroup::finish_one() noexcept {
    // in_finish_ covers every touch of this group by a finisher: once the last task's count
    // reaches 0, wait() may return and the group be freed, so wait() also waits for in_finish_ to
    // fall to 0, the finisher's last access.
    in_finish_.fetch_add(1, std::memory_order_seq_cst);
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1) {
        done_epoch_.fetch_add(1, std::memory_order_seq_cst);
        if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake(done_epoch_, INT_MAX);
    }
    in_finish_.fetch_sub(1, std::memory_order_release);
}

void TaskGroup::record_exception() noexcept {
    std::lock_guard lock(error_mutex_);
    if (!error_) error_ = std::current_exception();
    failed_.store(true, std::memory_order_release);
}

void TaskGroup::wait() {
    for (int idle = 0;;) {
        // The epoch is read before pending_: a finish between the two advances it, and the
        // futex then returns at once instead of sleeping through the wake-up.
        const std::uint32_t epoch = done_epoch_.load(std::memory_order_seq_cst);
        if (pending_.load(std::memory_order_seq_cst) == 0) {
            if (in_finish_.load(std::memory_order_acquire) == 0) break;
            cpu_relax();  // the last finisher is between its count and its wake-up: a few instructions
            continue;
        }
        if (pool_.run_one()) {
            idle = 0;
        } else if (++idle < 256) {
            cpu_relax();  // the last tasks run on workers: they end soon in a fork-join round
        } else {
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            if (done_epoch_.load(std::memory_order_seq_cst) == epoch) futex_wait(done_epoch_, epoch);
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }
    if (failed_.load(std::memory_order_acquire)) {
        std::exception_ptr e;
        {
            std::lock_guard lock(error_mutex_);
            e = std::exchange(error_, nullptr);
            failed_.store(false, std::memory_order_relaxed);
        }
        if (e) std::rethrow_exception(e);
    }
}

// ---------------------------------------------------------------------------------------------

ThreadPool::ThreadPool(unsigned threads, std::size_t queue_capacity, IdleSpin idle_spin) : queue_(queue_capacity) {
    if (threads == 0) threads = default_threads();
    const bool spin = idle_spin == IdleSpin::always || (idle_spin == IdleSpin::if_several_cpus && allowed_cpus() > 1);
    idle_spins_ = spin ? 4000 : 0;
    workers_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    try {
        all_.wait();
    } catch (...) {}
    while (run_one()) {}
    stopping_.store(true, std::memory_order_seq_cst);
    wake_epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(wake_epoch_, INT_MAX);
    for (auto& w : workers_) w.join();
}

bool ThreadPool::run_one() {
    detail::Task task;
    if (!queue_.try_pop(task)) return false;
    task();
    return true;
}

void ThreadPool::enqueue(detail::Task task) {
    // A full queue: the producer runs queued work itself until there is room.
    while (!queue_.try_push(task)) {
        if (!run_one()) std::this_thread::yield();
    }
    wake_one();
}

void ThreadPool::wake_one() {
    // Pairs with the sleeper's increment: a read-modify-write, so it cannot be ordered before the
    // push above (a plain load could, and a sleeper would miss the task).
    if (sleepers_.fetch_add(0, std::memory_order_seq_cst) == 0) return;
    wake_epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(wake_epoch_, 1);
}

void ThreadPool::worker_loop() {
    for (;;) {
        if (run_one()) continue;
        // Spin a little: in a fork-join loop the next task usually comes within microseconds.
        // Look at the queue only every 16 pauses: every look pulls the producer's cache line away.
        bool found = false;
        for (int i = 0; i < idle_spins_ && !found; ++i) {
            cpu_relax();
            if (i % 16 == 15) found = !queue_.maybe_empty();
        }
        if (found) continue;
        const std::uint32_t epoch = wake_epoch_.load(std::memory_order_seq_cst);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        if (!queue_.maybe_empty()) {
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
            continue;
        }
        if (stopping_.load(std::memory_order_seq_cst)) {
            sleepers_.fetch_sub(1, std::memory_order_seq_cst);
            return;
        }
        futex_wait(wake_epoch_, epoch);
        sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    }
}

}  // namespace proclab
