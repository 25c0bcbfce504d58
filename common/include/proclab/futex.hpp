// A futex on a 32-bit word that two processes may share (MAP_SHARED memory): not
// FUTEX_PRIVATE_FLAG, so a waiter in one process is woken from another. context_switch and
// ipc_cost wait with it.
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

}  // namespace proclab
