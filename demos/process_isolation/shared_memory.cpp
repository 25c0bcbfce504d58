// process_isolation's sanctioned door: Boost.Interprocess shared memory, opened by name in an
// exec'd child (removed on every exit path) and anonymous, inherited across fork.
#include "process_isolation/experiments.hpp"

#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/handles.hpp"
#include "proclab/spawn.hpp"

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <cstring>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::process_isolation {

namespace bip = boost::interprocess;

namespace {

std::string read_c_string(const char* p, std::size_t max) { return std::string(p, strnlen(p, max)); }

// Removes the named segment on construction (a leftover of a killed run) and on destruction; the
// cleanup registry unlinks it on Ctrl-C, SIGTERM and --timeout, which no destructor sees.
class SharedMemoryRemover {
public:
    explicit SharedMemoryRemover(std::string name) : name_(std::move(name)) {
        bip::shared_memory_object::remove(name_.c_str());
        cleanup::track_path("/dev/shm/" + name_);
    }
    SharedMemoryRemover(const SharedMemoryRemover&) = delete;
    SharedMemoryRemover& operator=(const SharedMemoryRemover&) = delete;
    ~SharedMemoryRemover() {
        bip::shared_memory_object::remove(name_.c_str());
        cleanup::untrack_path("/dev/shm/" + name_);
    }
    const std::string& name() const { return name_; }

private:
    std::string name_;
};

}  // namespace

SharedMemory shared_memory(const DemoContext& ctx) {
    SharedMemory out;
    bool works = true;

    // Named: an exec'd child opens the segment by its name and writes; the parent reads.
    {
        SharedMemoryRemover guard(fmt::format("proclab-isolation-{}", ::getpid()));
        bip::shared_memory_object segment(bip::create_only, guard.name().c_str(), bip::read_write);
        segment.truncate(4096);
        bip::mapped_region region(segment, bip::read_write);
        const std::string message = fmt::format("hello from an exec'd child {}", now_ns() % 1000);
        auto run = run_captured(ctx.self_exe, {"--child", "shm-write", guard.name(), message},
                                {.timeout = std::chrono::seconds(20)});
        const std::string seen = read_c_string(static_cast<const char*>(region.get_address()), region.get_size());
        works = works && run.status.exited() && run.status.exit_code() == 0 && seen == message;
        out.rows.push_back({"named (/dev/shm/" + guard.name() + ")", "exec'd child", "parent",
                            parse_key_values(run.out)["addr"], hex(region.get_address()), seen});
    }

    // Anonymous: mapped before fork, so parent and child map the same pages.
    bip::mapped_region anon = bip::anonymous_shared_memory(4096);
    {
        auto* text = static_cast<char*>(anon.get_address());
        auto child = ChildProcess::fork([&] {
            copy_text(text, 64, "written by the forked child");
            return 0;
        });
        child.wait();
        works = works && std::string(text) == "written by the forked child";
        out.rows.push_back(
            {"anonymous (MAP_SHARED, inherited by fork)", "forked child", "parent", hex(text), hex(text), text});
    }
    out.works = works;
    return out;
}

}  // namespace proclab::process_isolation
