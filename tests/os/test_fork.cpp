// fork() semantics asserted directly.
#include "proclab/child.hpp"
#include "proclab/handles.hpp"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <sys/mman.h>
#include <sys/resource.h>

using namespace proclab;

namespace {
long minor_faults() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}
}  // namespace

// [differs-under-qemu-user]: qemu-user runs a thread of its own (RCU) in every guest process: /proc/self/task shows 2;
// the arm64 preset leaves it out.
TEST_CASE("after fork in a multi-threaded process the child has one thread", "[os][fork][differs-under-qemu-user]") {
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> started{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 3; ++i)
        ts.emplace_back([&] {
            started.fetch_add(1);
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return release; });
        });
    while (started.load() < 3) std::this_thread::yield();
    auto child = ChildProcess::fork([] {
        int n = 0;
        for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
        return n;
    });
    const auto status = child.wait();
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    for (auto& t : ts) t.join();
    CHECK(status.exit_code() == 1);
}

TEST_CASE("touching N pages after fork causes at least N minor faults in the writer", "[os][fork]") {
    constexpr std::size_t kPages = 512;
    Mapping region = Mapping::anonymous(kPages * 4096, false);
    ::madvise(region.data(), region.size(), MADV_NOHUGEPAGE);
    auto* bytes = static_cast<volatile char*>(region.data());
    for (std::size_t p = 0; p < kPages; ++p) bytes[p * 4096] = 1;
    Pipe report = Pipe::create();
    auto child = ChildProcess::fork([&] {
        const long before = minor_faults();
        for (std::size_t p = 0; p < kPages; ++p) bytes[p * 4096] = 2;
        send_value(report.write_end.get(), minor_faults() - before);
        return 0;
    });
    const auto faults = receive_value<long>(report.read_end.get());
    REQUIRE(child.wait().exit_code() == 0);
    REQUIRE(faults);
    CHECK(*faults >= long(kPages));
    for (std::size_t p = 0; p < kPages; ++p) REQUIRE(bytes[p * 4096] == 1);  // and the parent's pages are its own
}
