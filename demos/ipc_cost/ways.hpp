// ipc_cost's ways across the process boundary, behind one interface. Each is set up before the
// fork, so both processes hold it; the parent is the initiator (it sends "down" and receives "up"),
// the forked peer the responder. A message is bytes of any size up to the channel's limit;
// receive() returns exactly the bytes sent, in order, or throws PeerGone.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace proclab::ipc_cost {

enum class WayId { pipe, socketpair, eventfd, mq, shm_spin, shm_semaphore, shm_futex };

struct WayInfo {
    WayId id;
    std::string_view name;         // the option value and metric id part: "shm-spin"
    std::string_view description;  // for the tables
    std::size_t max_message;       // eventfd carries one 8-byte counter; the others any size
    bool streams;                  // bandwidth measured (eventfd: latency only)
};

const std::vector<WayInfo>& all_ways();
const WayInfo& info(WayId id);
std::optional<WayId> way_from_name(std::string_view name);
std::string metric_name(WayId id);  // "shm_spin": for metric ids

enum class Side { initiator, responder };

// The peer closed its end or died in the middle of a message.
class PeerGone : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// This way cannot be opened on this machine (no POSIX message queues, say): the reason, in words.
class NotAvailable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Channel {
public:
    virtual ~Channel() = default;
    // In each process after the fork: drop the other side's ends, so a peer that goes away is seen
    // as an end of file rather than a wait forever.
    virtual void keep_side(Side) {}
    virtual void send(Side from, const std::byte* data, std::size_t size) = 0;
    virtual void receive(Side at, std::byte* data, std::size_t size) = 0;
    // How the way carries a message, where it is not obvious (POSIX mq: in chunks of its limit).
    virtual std::string how() const { return {}; }
};

// Opens a way for messages up to max_message bytes. Throws NotAvailable with the reason, or
// HarnessError for an unexpected failure of a call.
std::unique_ptr<Channel> open_channel(WayId id, std::size_t max_message);

}  // namespace proclab::ipc_cost
