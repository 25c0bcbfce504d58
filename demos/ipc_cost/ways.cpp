// The seven ways, each the plainest correct use of its API: what a program would write.

#include "ipc_cost/ways.hpp"

#include "proclab/futex.hpp"
#include "proclab/handles.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <boost/interprocess/sync/interprocess_semaphore.hpp>
#include <fmt/format.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proclab::ipc_cost {

const std::vector<WayInfo>& all_ways() {
    static const std::vector<WayInfo> ways{
        {WayId::pipe, "pipe", "two pipes (one each way), write/read", SIZE_MAX, true},
        {WayId::socketpair, "socketpair", "UNIX stream socketpair, write/read", SIZE_MAX, true},
        {WayId::eventfd, "eventfd", "two eventfds: an 8-byte counter, write/read", 8, false},
        {WayId::mq, "mq", "two POSIX message queues, mq_send/mq_receive", SIZE_MAX, true},
        {WayId::shm_spin, "shm-spin", "Boost.Interprocess shared memory, slots, spinning on a flag", SIZE_MAX, true},
        {WayId::shm_semaphore, "shm-semaphore", "Boost.Interprocess shared memory, slots, interprocess_semaphore",
         SIZE_MAX, true},
        {WayId::shm_futex, "shm-futex", "shared memory (Boost.Interprocess), slots, futex wait/wake", SIZE_MAX, true},
    };
    return ways;
}

const WayInfo& info(WayId id) {
    for (const auto& w : all_ways())
        if (w.id == id) return w;
    throw std::logic_error("unknown way");
}

std::optional<WayId> way_from_name(std::string_view name) {
    for (const auto& w : all_ways())
        if (w.name == name) return w.id;
    return std::nullopt;
}

std::string metric_name(WayId id) {
    std::string s(info(id).name);
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Byte streams: pipe and socketpair.

void read_message(int fd, std::byte* data, std::size_t size) {
    if (!read_exact(fd, data, size)) throw PeerGone("the peer closed its end");
}

class PipeChannel final : public Channel {
public:
    PipeChannel() : down_(Pipe::create()), up_(Pipe::create()) {}
    void keep_side(Side side) override {
        if (side == Side::initiator) {
            down_.read_end.reset();
            up_.write_end.reset();
        } else {
            down_.write_end.reset();
            up_.read_end.reset();
        }
    }
    void send(Side from, const std::byte* data, std::size_t size) override {
        write_all((from == Side::initiator ? down_ : up_).write_end.get(), data, size);
    }
    void receive(Side at, std::byte* data, std::size_t size) override {
        read_message((at == Side::initiator ? up_ : down_).read_end.get(), data, size);
    }

private:
    Pipe down_, up_;
};

class SocketpairChannel final : public Channel {
public:
    SocketpairChannel() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
            throw_errno("socketpair(AF_UNIX, SOCK_STREAM)");
        ends_[0].reset(fds[0]);
        ends_[1].reset(fds[1]);
    }
    void keep_side(Side side) override { ends_[side == Side::initiator ? 1 : 0].reset(); }
    void send(Side from, const std::byte* data, std::size_t size) override { write_all(end(from), data, size); }
    void receive(Side at, std::byte* data, std::size_t size) override { read_message(end(at), data, size); }

private:
    int end(Side s) const { return ends_[s == Side::initiator ? 0 : 1].get(); }
    UniqueFd ends_[2];
};

// ---------------------------------------------------------------------------------------------
// eventfd: a counter, not a byte stream. Ping-pong only: each write is read before the next.

class EventfdChannel final : public Channel {
public:
    EventfdChannel() : down_(make()), up_(make()) {}
    void send(Side from, const std::byte* data, std::size_t size) override {
        std::uint64_t v = value(data, size);
        if (::write((from == Side::initiator ? down_ : up_).get(), &v, sizeof v) != sizeof v)
            throw_errno("write(eventfd)");
    }
    void receive(Side at, std::byte* data, std::size_t size) override {
        std::uint64_t v = 0;
        for (;;) {
            const ssize_t n = ::read((at == Side::initiator ? up_ : down_).get(), &v, sizeof v);
            if (n == sizeof v) break;
            if (n < 0 && errno == EINTR) continue;
            throw_errno("read(eventfd)");
        }
        std::memcpy(data, &v, std::min(size, sizeof v));
    }

private:
    static UniqueFd make() {
        const int fd = ::eventfd(0, EFD_CLOEXEC);
        if (fd < 0) throw_errno("eventfd");
        return UniqueFd(fd);
    }
    static std::uint64_t value(const std::byte* data, std::size_t size) {
        if (size != sizeof(std::uint64_t)) throw std::invalid_argument("eventfd carries 8-byte messages only");
        std::uint64_t v;
        std::memcpy(&v, data, sizeof v);
        // A counter: 0 would add nothing (the reader would not wake) and the maximum is reserved.
        if (v == 0 || v == UINT64_MAX) throw std::invalid_argument("eventfd cannot carry 0 or 2^64-1");
        return v;
    }
    UniqueFd down_, up_;
};

// ---------------------------------------------------------------------------------------------
// POSIX message queues: messages up to the queue's msgsize; a longer one goes in chunks. The
// queues are unlinked as soon as they are open: the descriptors (inherited by the fork) keep them,
// and nothing is left in /dev/mqueue whatever happens next.

long read_proc_long(const char* path, long fallback) {
    std::ifstream in(path);
    long v = 0;
    return in >> v ? v : fallback;
}

class MqChannel final : public Channel {
public:
    MqChannel() {
        msgsize_ = read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
        maxmsg_ = std::min<long>(10, read_proc_long("/proc/sys/fs/mqueue/msg_max", 10));
        down_ = open("down");
        up_ = open("up");
        buffer_.resize(static_cast<std::size_t>(msgsize_));
    }
    ~MqChannel() override {
        if (down_ != mqd_t(-1)) ::mq_close(down_);
        if (up_ != mqd_t(-1)) ::mq_close(up_);
    }
    void send(Side from, const std::byte* data, std::size_t size) override {
        const mqd_t q = from == Side::initiator ? down_ : up_;
        for (std::size_t off = 0; off < size || (size == 0 && off == 0); off += std::size_t(msgsize_)) {
            const std::size_t n = std::min(size - off, std::size_t(msgsize_));
            while (::mq_send(q, reinterpret_cast<const char*>(data + off), n, 0) != 0)
                if (errno != EINTR) throw_errno("mq_send");
            if (size == 0) break;
        }
    }
    void receive(Side at, std::byte* data, std::size_t size) override {
        const mqd_t q = at == Side::initiator ? up_ : down_;
        for (std::size_t off = 0; off < size || (size == 0 && off == 0); off += std::size_t(msgsize_)) {
            const std::size_t want = std::min(size - off, std::size_t(msgsize_));
            ssize_t n;
            while ((n = ::mq_receive(q, reinterpret_cast<char*>(buffer_.data()), buffer_.size(), nullptr)) < 0)
                if (errno != EINTR) throw_errno("mq_receive");
            if (std::size_t(n) != want)
                throw PeerGone(fmt::format("mq_receive: {} bytes where {} were expected", n, want));
            std::memcpy(data + off, buffer_.data(), want);
            if (size == 0) break;
        }
    }
    std::string how() const override {
        return fmt::format(
            "queues of {} messages of at most {} B (/proc/sys/fs/mqueue); a longer message goes in chunks", maxmsg_,
            msgsize_);
    }

private:
    mqd_t open(const char* which) {
        const std::string name = fmt::format("/proclab-ipc-{}-{}", ::getpid(), which);
        mq_attr attr{};
        attr.mq_maxmsg = maxmsg_;
        attr.mq_msgsize = msgsize_;
        const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
        if (q == mqd_t(-1)) {
            const int err = errno;
            if (err == ENOSYS || err == ENOENT || err == EACCES || err == EPERM || err == EMFILE || err == ENOSPC)
                throw NotAvailable(fmt::format("mq_open({}): {}", name, std::strerror(err)));
            throw_errno("mq_open(" + name + ")");
        }
        ::mq_unlink(name.c_str());
        return q;
    }
    long msgsize_ = 8192, maxmsg_ = 10;
    mqd_t down_ = mqd_t(-1), up_ = mqd_t(-1);
    std::vector<std::byte> buffer_;
};

// ---------------------------------------------------------------------------------------------
// Shared memory: per direction a ring of slots in one Boost.Interprocess segment. The producer
// copies a message (or a slot-sized chunk of it) into the next free slot and publishes it by
// writing the message's number into the slot's `seq`, on the same cache line as the size and the
// first bytes (so a small message crosses as one line, as in Vyukov's bounded queue); the consumer
// waits for that number, copies the bytes out and frees the slot by advancing `tail`, which the
// producer reads only when the ring looks full. Only how a side waits differs: spinning, an
// interprocess_semaphore, or a futex on the word it waits for.

constexpr std::size_t kSlots = 4;
constexpr std::size_t kSlotBytes = 256 * 1024;

enum class Wait { spin, semaphore, futex };

struct alignas(64) Ring {
    alignas(64) std::atomic<std::uint32_t> tail{0};  // slots consumed
    std::atomic<std::uint32_t> tail_waiter{0};
    alignas(64) std::atomic<std::uint32_t> seq_waiter{0};
    alignas(64) boost::interprocess::interprocess_semaphore items{0};
    alignas(64) boost::interprocess::interprocess_semaphore spaces{kSlots};
    struct alignas(64) Slot {
        std::atomic<std::uint32_t> seq{0};  // the number (from 1) of the message it holds
        std::uint32_t unused = 0;
        std::uint64_t size = 0;
        std::byte bytes[kSlotBytes];
    } slots[kSlots];
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Waits until `word` satisfies `done`. Spinning: after 256 turns with nothing new (some µs, far
// longer than a hand-off between two CPUs) the spinner yields at every turn, so a peer on the same
// CPU gets to run. Futex: announces itself in `waiter` and sleeps; the other side makes the wake
// call only when announced (the usual fast path).
template <class Done>
std::uint32_t wait_until(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& waiter, Wait how, Done done) {
    std::uint32_t v;
    if (how == Wait::spin) {
        for (unsigned turn = 0; !done(v = word.load(std::memory_order_acquire)); ++turn) {
            if (turn < 256) cpu_relax();
            else ::sched_yield();
        }
        return v;
    }
    while (!done(v = word.load(std::memory_order_acquire))) {
        waiter.store(1, std::memory_order_seq_cst);
        if (word.load(std::memory_order_seq_cst) == v) futex_shared(&word, FUTEX_WAIT, v);
        waiter.store(0, std::memory_order_relaxed);
    }
    return v;
}

// Only the futex way needs the full fence (its store and the waiter check pair up with the
// waiter's, Dekker-style, so a wake-up is never missed); a spinner needs release order only, and
// a locked instruction per message would be a good part of a hand-off's cost.
void publish(std::atomic<std::uint32_t>& word, std::uint32_t value, std::atomic<std::uint32_t>& waiter, Wait how) {
    if (how != Wait::futex) {
        word.store(value, std::memory_order_release);
        return;
    }
    word.store(value, std::memory_order_seq_cst);
    if (waiter.load(std::memory_order_seq_cst) != 0) futex_shared(&word, FUTEX_WAKE, 1);
}

class ShmChannel final : public Channel {
public:
    explicit ShmChannel(Wait how) : how_(how) {
        namespace bip = boost::interprocess;
        const std::string name = fmt::format("proclab-ipc-{}", ::getpid());
        try {
            bip::shared_memory_object segment(bip::create_only, name.c_str(), bip::read_write);
            // Removed as soon as it is mapped: the mapping (shared with the forked peer) keeps it,
            // and nothing is left in /dev/shm whatever happens next.
            struct Remove {
                const std::string& name;
                ~Remove() { bip::shared_memory_object::remove(name.c_str()); }
            } remove{name};
            segment.truncate(static_cast<bip::offset_t>(2 * sizeof(Ring)));
            region_ = bip::mapped_region(segment, bip::read_write);
        } catch (const bip::interprocess_exception& e) {
            throw NotAvailable(fmt::format("Boost.Interprocess shared memory {}: {}", name, e.what()));
        }
        down_ = new (region_.get_address()) Ring{};
        up_ = new (static_cast<char*>(region_.get_address()) + sizeof(Ring)) Ring{};
    }
    ~ShmChannel() override {
        // Both processes hold the rings; each destroys its view only (the semaphores are POSIX
        // unnamed ones: sem_destroy on a mapping the peer also uses is harmless once both are done).
    }
    void send(Side from, const std::byte* data, std::size_t size) override {
        Ring& r = from == Side::initiator ? *down_ : *up_;
        std::uint32_t& head = from == Side::initiator ? down_head_ : up_head_;
        std::uint32_t& tail_seen = from == Side::initiator ? down_tail_seen_ : up_tail_seen_;
        std::size_t off = 0;
        do {
            const std::size_t n = std::min(size - off, kSlotBytes);
            if (how_ == Wait::semaphore) {
                r.spaces.wait();
            } else if (head - tail_seen >= kSlots) {
                tail_seen = wait_until(r.tail, r.tail_waiter, how_, [&](std::uint32_t t) { return head - t < kSlots; });
            }
            auto& slot = r.slots[head % kSlots];
            slot.size = n;
            std::memcpy(slot.bytes, data + off, n);
            ++head;
            publish(slot.seq, head, r.seq_waiter, how_);
            if (how_ == Wait::semaphore) r.items.post();
            off += n;
        } while (off < size);
    }
    void receive(Side at, std::byte* data, std::size_t size) override {
        Ring& r = at == Side::initiator ? *up_ : *down_;
        std::uint32_t& tail = at == Side::initiator ? up_tail_ : down_tail_;
        std::size_t off = 0;
        do {
            auto& slot = r.slots[tail % kSlots];
            const std::uint32_t number = tail + 1;
            if (how_ == Wait::semaphore) r.items.wait();
            else wait_until(slot.seq, r.seq_waiter, how_, [&](std::uint32_t v) { return v == number; });
            const std::size_t n = static_cast<std::size_t>(slot.size);
            if (n != std::min(size - off, kSlotBytes))
                throw PeerGone(
                    fmt::format("a slot of {} bytes where {} were expected", n, std::min(size - off, kSlotBytes)));
            std::memcpy(data + off, slot.bytes, n);
            ++tail;
            publish(r.tail, tail, r.tail_waiter, how_);
            if (how_ == Wait::semaphore) r.spaces.post();
            off += n;
        } while (off < size);
    }
    std::string how() const override {
        return fmt::format("{} slots of {} per direction; a longer message goes in slot-sized chunks", kSlots,
                           kSlotBytes >= 1024 * 1024 ? fmt::format("{} MiB", kSlotBytes >> 20)
                                                     : fmt::format("{} KiB", kSlotBytes >> 10));
    }

private:
    Wait how_;
    boost::interprocess::mapped_region region_;
    Ring* down_ = nullptr;
    Ring* up_ = nullptr;
    // Each process's own view of the counters it advances or last read (each side uses two).
    std::uint32_t down_head_ = 0, down_tail_ = 0, down_tail_seen_ = 0;
    std::uint32_t up_head_ = 0, up_tail_ = 0, up_tail_seen_ = 0;
};

}  // namespace

std::unique_ptr<Channel> open_channel(WayId id, std::size_t max_message) {
    if (max_message > info(id).max_message)
        throw std::invalid_argument(
            fmt::format("{} carries messages of at most {} bytes", info(id).name, info(id).max_message));
    switch (id) {
        case WayId::pipe: return std::make_unique<PipeChannel>();
        case WayId::socketpair: return std::make_unique<SocketpairChannel>();
        case WayId::eventfd: return std::make_unique<EventfdChannel>();
        case WayId::mq: return std::make_unique<MqChannel>();
        case WayId::shm_spin: return std::make_unique<ShmChannel>(Wait::spin);
        case WayId::shm_semaphore: return std::make_unique<ShmChannel>(Wait::semaphore);
        case WayId::shm_futex: return std::make_unique<ShmChannel>(Wait::futex);
    }
    throw std::logic_error("unknown way");
}

}  // namespace proclab::ipc_cost
