// proclab's thread pool: a fixed set of workers sharing one lock-free bounded queue (Vyukov's
// MPMC ring), tasks stored inline (no allocation for small callables), and waiters that help:
// TaskGroup::wait(), TaskHandle::get() and ThreadPool::wait_all() run queued tasks themselves
// instead of sleeping, so waiting inside a task cannot deadlock and a fork-join round needs no
// context switch when the queue is busy. Idle workers spin briefly, then sleep on a futex
// (futex.hpp); a producer wakes one only when someone sleeps.
//
// Semantics: every task submitted runs exactly once; an exception escaping a task is carried to
// whoever waits for it (TaskHandle::get(), the first one from TaskGroup::wait() / wait_all());
// submitting from inside a task is allowed; the destructor runs every task already submitted,
// then joins the workers. Measured against oneTBB and boost::asio::thread_pool by bench/pool_bench.
#pragma once

#include "proclab/futex.hpp"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace proclab {

namespace detail {

// A type-erased callable with 48 bytes of inline storage; larger ones go to the heap.
class Task {
public:
    Task() noexcept = default;
    template <class F, class D = std::decay_t<F>>
    explicit Task(F&& f) {
        if constexpr (sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
                      std::is_nothrow_move_constructible_v<D>) {
            new (storage_) D(std::forward<F>(f));
            ops_ = &inline_ops<D>;
        } else {
            *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
            ops_ = &heap_ops<D>;
        }
    }
    Task(Task&& o) noexcept : ops_(o.ops_) {
        if (ops_) ops_->move(storage_, o.storage_);
        o.ops_ = nullptr;
    }
    Task& operator=(Task&& o) noexcept {
        if (this != &o) {
            reset();
            ops_ = o.ops_;
            if (ops_) ops_->move(storage_, o.storage_);
            o.ops_ = nullptr;
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { reset(); }

    explicit operator bool() const noexcept { return ops_ != nullptr; }
    void operator()() { ops_->invoke(storage_); }
    void reset() noexcept {
        if (ops_) ops_->destroy(storage_);
        ops_ = nullptr;
    }

private:
    static constexpr std::size_t kInline = 48;
    struct Ops {
        void (*invoke)(void*);
        void (*move)(void* dst, void* src) noexcept;
        void (*destroy)(void*) noexcept;
    };
    template <class D>
    static constexpr Ops inline_ops{[](void* p) { (*static_cast<D*>(p))(); },
                                    [](void* dst, void* src) noexcept {
                                        new (dst) D(std::move(*static_cast<D*>(src)));
                                        static_cast<D*>(src)->~D();
                                    },
                                    [](void* p) noexcept { static_cast<D*>(p)->~D(); }};
    template <class D>
    static constexpr Ops heap_ops{
        [](void* p) { (**static_cast<D**>(p))(); },
        [](void* dst, void* src) noexcept { *static_cast<D**>(dst) = *static_cast<D**>(src); },
        [](void* p) noexcept { delete *static_cast<D**>(p); }};

    alignas(std::max_align_t) unsigned char storage_[kInline];
    const Ops* ops_ = nullptr;
};

// Dmitry Vyukov's bounded multi-producer multi-consumer queue: one CAS per push or pop.
class TaskQueue {
public:
    explicit TaskQueue(std::size_t capacity_pow2);
    bool try_push(Task& task);  // moves from `task` on success
    bool try_pop(Task& out);
    bool maybe_empty() const noexcept {
        return enqueue_.load(std::memory_order_acquire) == dequeue_.load(std::memory_order_acquire);
    }

private:
    struct alignas(64) Cell {
        std::atomic<std::size_t> sequence;
        Task task;
    };
    std::unique_ptr<Cell[]> cells_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> enqueue_{0};
    alignas(64) std::atomic<std::size_t> dequeue_{0};
};

}  // namespace detail

class ThreadPool;

// A set of tasks to wait for together, the fast path for fork-join (no allocation per task).
class TaskGroup {
public:
    explicit TaskGroup(ThreadPool& pool) : pool_(pool) {}
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;
    ~TaskGroup();  // waits (without rethrowing): no task, nor its finisher, may outlive the group it reports to

    template <class F>
    void run(F&& f);
    // Runs queued tasks until every task of this group is done; rethrows the first exception.
    void wait();

private:
    friend class ThreadPool;
    // Enqueues a task already counted in pending_ (parallel_for counts a whole round at once).
    template <class F>
    void run_counted(F&& f);
    void finish_one() noexcept;
    void record_exception() noexcept;

    ThreadPool& pool_;
    alignas(64) std::atomic<std::size_t> pending_{0};
    std::atomic<std::uint32_t> done_epoch_{0};  // advanced when pending_ reaches 0; waiters sleep on it
    std::atomic<std::uint32_t> sleepers_{0};    // waiters about to sleep on done_epoch_
    std::atomic<std::uint32_t> in_finish_{0};   // finishers still touching the group (wait() outlasts them)
    std::atomic<bool> failed_{false};
    std::mutex error_mutex_;
    std::exception_ptr error_;
};

// A future-like handle to one task's result.
template <class R>
class TaskHandle {
public:
    TaskHandle() = default;
    // Runs queued tasks until this one is done; returns its value or rethrows its exception.
    R get();
    // Waits for a worker to run the task, never running a queued task itself: what a hand-off to
    // the pool costs (get() may run the task on this very thread). Spins briefly (unless `spin` is
    // off: a worker on this very CPU runs only once this thread sleeps), then sleeps.
    R get_from_worker(bool spin = true);
    bool ready() const { return state_ && state_->done.load(std::memory_order_acquire); }

private:
    friend class ThreadPool;
    struct State {
        std::atomic<std::uint32_t> done{0};      // 1 when the task has run (a futex word)
        std::atomic<std::uint32_t> sleepers{0};  // waiters about to sleep on done: only then is a wake-up owed
        void wait_until_done() noexcept {
            // Dekker with the completer (both seq_cst): either it sees a sleeper, or we see done.
            sleepers.fetch_add(1, std::memory_order_seq_cst);
            if (done.load(std::memory_order_seq_cst) == 0) futex_wait(done, 0);
            sleepers.fetch_sub(1, std::memory_order_seq_cst);
        }
        void mark_done() noexcept {
            done.store(1, std::memory_order_seq_cst);
            if (sleepers.load(std::memory_order_seq_cst) > 0) futex_wake(done, INT_MAX);
        }
        std::exception_ptr error;
        std::conditional_t<std::is_void_v<R>, char, std::optional<R>> value;
    };
    TaskHandle(std::shared_ptr<State> s, ThreadPool* p) : state_(std::move(s)), pool_(p) {}
    std::shared_ptr<State> state_;
    ThreadPool* pool_ = nullptr;
};

class ThreadPool {
public:
    // threads == 0: one per CPU this process may use, less one for the thread that waits (it helps).
    // An idle worker spins a little before it sleeps (the next task of a fork-join loop comes within
    // microseconds), but not where worker and submitter share one CPU: there a spinning worker only
    // keeps the submitter off it. if_several_cpus asks the constructing thread's affinity.
    enum class IdleSpin { if_several_cpus, always, never };
    explicit ThreadPool(unsigned threads = 0, std::size_t queue_capacity = 1 << 16,
                        IdleSpin idle_spin = IdleSpin::if_several_cpus);
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();  // runs every submitted task, then joins

    unsigned size() const noexcept { return static_cast<unsigned>(workers_.size()); }

    // Fire and forget; wait_all() waits for these (and rethrows the first exception among them).
    template <class F>
    void post(F&& f) {
        all_.run(std::forward<F>(f));
    }
    template <class F, class R = std::invoke_result_t<std::decay_t<F>&>>
    TaskHandle<R> submit(F&& f);
    // Many tasks at once: f(i) for i in [0, count), one handle each.
    template <class F, class R = std::invoke_result_t<std::decay_t<F>&, std::size_t>>
    std::vector<TaskHandle<R>> submit_bulk(std::size_t count, F f);
    void wait_all() { all_.wait(); }

    // Fork-join: body(i) for i in [begin, end), in chunks of `grain`, the caller helping.
    template <class F>
    void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F body);

    // Runs one queued task on the calling thread, if there is one. For waiters that help.
    bool run_one();

private:
    friend class TaskGroup;
    template <class R>
    friend class TaskHandle;

    void enqueue(detail::Task task);
    void worker_loop();
    void wake_one();

    detail::TaskQueue queue_;
    std::vector<std::thread> workers_;
    std::atomic<bool> stopping_{false};
    int idle_spins_ = 0;  // pauses an idle worker spins before it sleeps
    alignas(64) std::atomic<std::uint32_t> sleepers_{0};
    alignas(64) std::atomic<std::uint32_t> wake_epoch_{0};  // a futex word: sleeping workers wait on it
    TaskGroup all_{*this};
};

// ---------------------------------------------------------------------------------------------

template <class F>
void TaskGroup::run(F&& f) {
    pending_.fetch_add(1, std::memory_order_relaxed);
    run_counted(std::forward<F>(f));
}

template <class F>
void TaskGroup::run_counted(F&& f) {
    pool_.enqueue(detail::Task([this, fn = std::optional<std::decay_t<F>>(std::forward<F>(f))]() mutable {
        try {
            (*fn)();
        } catch (...) {
            record_exception();
        }
        // The callable and what it captured are gone before anyone waiting is told the task is
        // done: a waiter that returns may rely on its captures having been released.
        fn.reset();
        finish_one();
    }));
}

template <class F, class R>
TaskHandle<R> ThreadPool::submit(F&& f) {
    auto state = std::make_shared<typename TaskHandle<R>::State>();
    post([state, fn = std::optional<std::decay_t<F>>(std::forward<F>(f))]() mutable {
        try {
            if constexpr (std::is_void_v<R>) (*fn)();
            else state->value.emplace((*fn)());
        } catch (...) {
            state->error = std::current_exception();
        }
        fn.reset();  // released before get() can return (see run_counted)
        state->mark_done();
    });
    return TaskHandle<R>(std::move(state), this);
}

template <class F, class R>
std::vector<TaskHandle<R>> ThreadPool::submit_bulk(std::size_t count, F f) {
    std::vector<TaskHandle<R>> handles;
    handles.reserve(count);
    for (std::size_t i = 0; i < count; ++i) handles.push_back(submit([f, i]() mutable { return f(i); }));
    return handles;
}

template <class F>
void ThreadPool::parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F body) {
    if (grain == 0) grain = 1;
    if (begin >= end) return;
    TaskGroup group(*this);
    const std::size_t chunks = (end - begin + grain - 1) / grain;
    group.pending_.fetch_add(chunks, std::memory_order_relaxed);  // one update for the whole round
    // The caller runs the first chunk itself after queueing the rest: no hand-off for it.
    for (std::size_t lo = begin + grain; lo < end; lo += grain) {
        const std::size_t hi = lo + grain < end ? lo + grain : end;
        group.run_counted([&body, lo, hi] {
            for (std::size_t i = lo; i < hi; ++i) body(i);
        });
    }
    try {
        for (std::size_t i = begin; i < begin + grain && i < end; ++i) body(i);
    } catch (...) {
        group.record_exception();
    }
    group.finish_one();
    group.wait();
}

namespace detail {
void spin_pause() noexcept;  // one pause of a spin-wait (PAUSE on x86)
}  // namespace detail

template <class R>
R TaskHandle<R>::get_from_worker(bool spin) {
    for (int spins = 0; !state_->done.load(std::memory_order_acquire);) {
        if (spin && ++spins < 256) {  // ~10 µs: a spinning worker on another CPU answers well within it
            detail::spin_pause();
        } else {
            state_->wait_until_done();  // a worker asleep, or one CPU for both: sleep until done
        }
    }
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<R>) return std::move(*state_->value);
}

template <class R>
R TaskHandle<R>::get() {
    for (int idle = 0; !state_->done.load(std::memory_order_acquire);) {
        if (pool_->run_one()) {
            idle = 0;
        } else if (++idle > 64) {
            state_->wait_until_done();  // its task runs elsewhere: sleep until done
        } else {
            std::this_thread::yield();
        }
    }
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<R>) return std::move(*state_->value);
}

}  // namespace proclab
