// Owning handles for OS resources, in the manner of fmt's os.h: copy deleted, move leaves -1
// behind, the destructor closes. Errors throw HarnessError carrying errno and the call.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace proclab {

// A failure of the harness itself (not a finding): exit code 3 with the call and errno.
class HarnessError : public std::system_error {
public:
    HarnessError(int err, const std::string& call) : std::system_error(err, std::generic_category(), call) {}
};

// Throws HarnessError(errno, call).
[[noreturn]] void throw_errno(const std::string& call);

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
    static Pipe create();  // O_CLOEXEC: never leaks into an exec'd program by accident
};

// An mmap'd region, unmapped on destruction.
class Mapping {
public:
    Mapping() noexcept = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping(Mapping&& o) noexcept : addr_(std::exchange(o.addr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    Mapping& operator=(Mapping&& o) noexcept;
    ~Mapping();

    // Anonymous memory, private (copied on fork) or shared (the same pages after fork).
    static Mapping anonymous(std::size_t size, bool shared);

    void* data() const noexcept { return addr_; }
    std::size_t size() const noexcept { return size_; }

private:
    void* addr_ = nullptr;
    std::size_t size_ = 0;
};

// Copies text into a fixed-size field (a buffer in memory another process reads, say), cut to
// fit and always terminated; `size` must be at least 1.
void copy_text(char* dst, std::size_t size, std::string_view text);

// Blocking I/O that finishes the job across short reads/writes and EINTR.
void write_all(int fd, const void* data, std::size_t size);
// False on a clean EOF before any byte; throws on an EOF in the middle or an error.
bool read_exact(int fd, void* data, std::size_t size);
// Everything until EOF.
std::string read_all(int fd);

template <class T>
void send_value(int fd, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    write_all(fd, &value, sizeof value);
}

template <class T>
std::optional<T> receive_value(int fd) {
    static_assert(std::is_trivially_copyable_v<T>);
    T value{};
    if (!read_exact(fd, &value, sizeof value)) return std::nullopt;
    return value;
}

}  // namespace proclab
