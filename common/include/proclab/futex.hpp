// Futexes on 32-bit words. futex_shared: a word two processes may share (MAP_SHARED memory), not
// FUTEX_PRIVATE_FLAG, so a waiter in one process is woken from another (context_switch, ipc_cost).
// futex_wait / futex_wake: within one process (the thread pool). std::atomic::wait is not used:
// libstdc++ 12's woke its waiter about 4 ms after a notify here (a sleeper woken after 100 us
// returned after 4.0 ms, the raw futex after 0.17 ms), which a pool's hand-off cannot afford.
#pragma once

#include <atomic>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace proclab {

// op: FUTEX_WAIT (sleep while *word == value) or FUTEX_WAKE (wake up to `value` waiters).
inline long futex_shared(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

// Sleeps while word == expected (returns at once if it differs; may return spuriously).
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

// Wakes up to `count` sleepers on word.
inline void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0);
}

}  // namespace proclab
