#include "isolation_matrix/runaway.hpp"

#include "isolation_matrix/matrix.hpp"

#include "proclab/units.hpp"
#include "proclab/child.hpp"
#include "proclab/clock.hpp"
#include "proclab/environment.hpp"
#include "proclab/handles.hpp"
#include "proclab/work.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proclab::isolation_matrix {

std::string_view id(RunawayKind k) {
    switch (k) {
        case RunawayKind::memory_rlimit: return "memory_rlimit";
        case RunawayKind::memory_cgroup: return "memory_cgroup";
        case RunawayKind::processes: return "processes";
        case RunawayKind::processes_cgroup: return "processes_cgroup";
        case RunawayKind::files: return "files";
        case RunawayKind::cpu: return "cpu";
        case RunawayKind::cpu_cgroup: return "cpu_cgroup";
    }
    return "?";
}

int limit_errno(RunawayKind k) {
    switch (k) {
        case RunawayKind::memory_rlimit: return ENOMEM;
        case RunawayKind::processes:
        case RunawayKind::processes_cgroup: return EAGAIN;
        case RunawayKind::files: return EMFILE;
        default: return 0;  // ended by a signal (the OOM killer, SIGXCPU), or not stopped at all
    }
}

double RunawayRun::sibling_loss() const {
    double worst = 0;
    for (int i = 0; i < 2; ++i)
        if (before.rate[i] > 0) worst = std::max(worst, 1.0 - during.rate[i] / before.rate[i]);
    return std::clamp(worst, 0.0, 1.0);
}

namespace {

using namespace std::chrono_literals;

// What a runaway reports back (MAP_SHARED, made before its fork).
struct RunawayPage {
    std::atomic<int> state{0};             // 1 reached its end (limit or cap) and now holds; -errno set-up failed
    std::atomic<std::uint64_t> amount{0};  // bytes, processes or files it got
    int err = 0;                           // the errno that stopped it (0: its hard cap did)
    char note[160] = {};
};

struct SiblingCounters {
    std::atomic<std::uint64_t> chunks[2];
};

// Two children doing steady CPU work in ~20 µs chunks, each counting its chunks.
class Siblings {
public:
    Siblings() : memory_(Mapping::anonymous(4096, true)) {
        counters_ = new (memory_.data()) SiblingCounters{};
        for (int i = 0; i < 2; ++i)
            children_[i] = ChildProcess::fork([this, i] {
                std::uint64_t x = std::uint64_t(i);
                for (;;) {
                    x = busy_work(20'000, x);
                    counters_->chunks[i].fetch_add(1 + (x & 0), std::memory_order_relaxed);
                }
                return 0;
            });
    }
    Progress measure(double window_s) const {
        std::uint64_t c0[2], c1[2];
        for (int i = 0; i < 2; ++i) c0[i] = counters_->chunks[i].load();
        const Stopwatch w;
        std::this_thread::sleep_for(std::chrono::duration<double>(window_s));
        const double s = w.elapsed_s();
        for (int i = 0; i < 2; ++i) c1[i] = counters_->chunks[i].load();
        Progress p;
        for (int i = 0; i < 2; ++i) p.rate[static_cast<std::size_t>(i)] = double(c1[i] - c0[i]) / s;
        return p;
    }
    bool alive() {
        for (auto& c : children_)
            if (!c.running() || c.try_wait()) return false;
        return true;
    }

private:
    Mapping memory_;
    SiblingCounters* counters_ = nullptr;
    ChildProcess children_[2];
};

// Blocks until the parent closes the stop pipe.
void hold(int stop_fd) {
    char c;
    while (::read(stop_fd, &c, 1) < 0 && errno == EINTR) {}
}

std::size_t vm_size_bytes() {
    const auto status = read_small_file("/proc/self/status");
    const auto size = status ? status_field(*status, "VmSize") : std::nullopt;  // "1234 kB"
    return size ? std::stoull(*size) * 1024 : 0;
}

// Processes whose real uid is `uid` on the machine now (the first field of Uid: in /proc/*/status).
int processes_of(uid_t uid) {
    int count = 0;
    if (DIR* d = ::opendir("/proc")) {
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
            const auto status = read_small_file(std::string("/proc/") + e->d_name + "/status");
            const auto ids = status ? status_field(*status, "Uid") : std::nullopt;
            if (ids && std::strtoul(ids->c_str(), nullptr, 10) == uid) ++count;
        }
        ::closedir(d);
    }
    return count;
}

// The runaways, each the body of a child. They report on `page` and hold until `stop_fd` closes.
int memory_runaway(RunawayPage* page, int stop_fd, std::size_t cap, bool limit_as, bool beyond_cap) {
    rlimit limit{};
    // The limit under test: half the hard cap above what it holds now (or twice the cap: the cap wins).
    limit.rlim_cur = limit.rlim_max = vm_size_bytes() + (beyond_cap ? 2 * cap : cap / 2);
    if (limit_as && ::setrlimit(RLIMIT_AS, &limit) != 0) {
        page->state.store(-errno);
        return 0;
    }
    constexpr std::size_t kChunk = 8u << 20;
    std::uint64_t got = 0;
    while (got < cap) {  // the hard cap: never more than `cap` bytes, whatever the limit does
        void* p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            page->err = errno;
            break;
        }
        std::memset(p, 1, kChunk);
        got += kChunk;
        page->amount.store(got);
    }
    page->state.store(1);
    hold(stop_fd);
    return 0;
}

// A fork loop, each child waiting. Under RLIMIT_NPROC (`nproc_limit`) it drops to nobody first:
// the limit counts the processes of the real uid and does not bind root. In a cgroup under
// pids.max it stays who it is: the controller binds root too.
int process_runaway(RunawayPage* page, int stop_fd, int cap, bool beyond_cap, bool nproc_limit) {
    if (nproc_limit) {
        if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
            page->state.store(-errno);
            return 0;
        }
        const int existing = processes_of(::getuid());
        rlimit limit{};
        limit.rlim_cur = limit.rlim_max =
            static_cast<rlim_t>(existing + (beyond_cap ? 2 * cap : cap / 4));  // the limit under test
        if (::setrlimit(RLIMIT_NPROC, &limit) != 0) {
            page->state.store(-errno);
            return 0;
        }
        copy_text(page->note, sizeof page->note,
                  fmt::format("RLIMIT_NPROC {} for uid {} ({} of its processes existed)", limit.rlim_cur, ::getuid(),
                              existing));
    }
    std::vector<pid_t> kids;
    const pid_t me = ::getpid();
    while (static_cast<int>(kids.size()) < cap) {  // the hard cap
        const pid_t pid = ::fork();
        if (pid < 0) {
            page->err = errno;
            break;
        }
        if (pid == 0) {
            die_with_parent(me);
            for (;;) ::pause();
        }
        kids.push_back(pid);
        page->amount.store(kids.size());
    }
    page->state.store(1);
    hold(stop_fd);
    for (pid_t k : kids) ::kill(k, SIGKILL);
    for (pid_t k : kids)
        while (::waitpid(k, nullptr, 0) < 0 && errno == EINTR) {}
    return 0;
}

int file_runaway(RunawayPage* page, int stop_fd, int cap, bool beyond_cap) {
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = beyond_cap ? rlim_t(2 * cap) : 64;  // the limit under test
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        page->state.store(-errno);
        return 0;
    }
    int got = 0;
    while (got < cap) {
        if (::open("/dev/null", O_RDONLY) < 0) {
            page->err = errno;
            break;
        }
        page->amount.store(static_cast<std::uint64_t>(++got));
    }
    page->state.store(1);
    hold(stop_fd);
    return 0;
}

// Spinning threads. Under RLIMIT_CPU (`cpu_limit_s` > 0) the kernel sends SIGXCPU once the process
// has used that much CPU time, which ends it; the state is set only if the demo's stop came first
// (its hard cap), so the parent waits for the limit to act. Without it, it spins until stopped.
int cpu_runaway(RunawayPage* page, int stop_fd, int threads, int cpu_limit_s = 0) {
    if (cpu_limit_s > 0) {
        rlimit limit{};
        limit.rlim_cur = static_cast<rlim_t>(cpu_limit_s);
        limit.rlim_max = static_cast<rlim_t>(cpu_limit_s + 1);  // beyond the soft limit, SIGKILL
        if (::setrlimit(RLIMIT_CPU, &limit) != 0) {
            page->state.store(-errno);
            return 0;
        }
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> hogs;
    for (int i = 0; i < threads; ++i)
        hogs.emplace_back([&] {
            std::uint64_t x = 1;
            while (!stop.load(std::memory_order_relaxed)) x = busy_work(10'000, x);
        });
    page->amount.store(static_cast<std::uint64_t>(threads));
    if (cpu_limit_s == 0) page->state.store(1);
    hold(stop_fd);
    page->state.store(1);
    stop = true;
    for (auto& t : hogs) t.join();
    return 0;
}

std::string errno_text(int err) { return err ? errno_name(err) : "its own hard cap"; }

// The file's first line, "" when it cannot be read.
std::string first_line(const std::string& file) {
    const auto text = read_small_file(file);
    return text ? text->substr(0, text->find('\n')) : std::string();
}

// A cgroup v2 directory of the demo's own under a delegated parent: made with its limits, given
// the runaway, removed when the runaway is gone (tracked, so Ctrl-C removes it too).
class CgroupDir {
public:
    CgroupDir(const std::string& parent, std::string_view tag)
        : path_(fmt::format("{}/proclab-{}-{}", parent, ::getpid(), tag)) {
        if (::mkdir(path_.c_str(), 0755) != 0) {
            error_ = fmt::format("mkdir {}: {}", path_, errno_name(errno));
            return;
        }
        cleanup::track_path(path_);
        made_ = true;
    }
    CgroupDir(const CgroupDir&) = delete;
    CgroupDir& operator=(const CgroupDir&) = delete;
    ~CgroupDir() {
        if (!made_) return;
        // The runaway has been reaped by now; rmdir may need a moment while the kernel lets go.
        for (int i = 0; i < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(10ms);
        cleanup::untrack_path(path_);
    }
    bool ok() const { return made_ && error_.empty(); }
    const std::string& error() const { return error_; }
    const std::string& path() const { return path_; }
    bool write(const char* file, const std::string& value, bool optional = false) {
        std::ofstream out(path_ + "/" + file);
        out << value;
        out.flush();
        if (!out && !optional) error_ = fmt::format("write {} to {}/{}: failed", value, path_, file);
        return static_cast<bool>(out);
    }
    // Moves `pid` in: an empty string, or what went wrong (on making the directory or its limits too).
    std::string enter(pid_t pid) {
        if (ok()) write("cgroup.procs", std::to_string(pid));
        return error_;
    }
    // "oom_kill 1" from memory.events
    long event(const char* file, std::string_view key) const {
        std::ifstream in(path_ + "/" + file);
        std::string k;
        long v = 0;
        while (in >> k >> v)
            if (k == key) return v;
        return 0;
    }

private:
    std::string path_;
    std::string error_;
    bool made_ = false;
};

}  // namespace

CgroupPlace cgroup_place(const char* controller) {
    CgroupPlace place;
    // cgroup v2: this process's cgroup from /proc/self/cgroup ("0::/path"), the unified mount from
    // /proc/self/mountinfo; children with a limit need the controller in its subtree_control.
    std::string path, mount;
    {
        std::ifstream in("/proc/self/cgroup");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("0::", 0) == 0) path = line.substr(3);
    }
    {
        std::ifstream in("/proc/self/mountinfo");
        std::string line;
        while (std::getline(in, line)) {
            const auto dash = line.find(" - cgroup2 ");
            if (dash == std::string::npos) continue;
            std::istringstream fields(line);
            std::string id, parent, devno, root, point;
            fields >> id >> parent >> devno >> root >> point;
            if (root == "/") mount = point;
        }
    }
    if (mount.empty()) {
        place.why_not = "no cgroup v2 hierarchy is mounted";
        return place;
    }
    const std::string dir = mount + (path == "/" ? "" : path);
    const auto subtree = read_small_file(dir + "/cgroup.subtree_control");
    if (!subtree) {
        place.why_not = fmt::format("cannot read {}/cgroup.subtree_control", dir);
        return place;
    }
    const std::string enabled = subtree->substr(0, subtree->find('\n'));
    if ((" " + enabled + " ").find(std::string(" ") + controller + " ") == std::string::npos) {
        place.why_not = fmt::format(
            "cgroup v2 at {}: the {} controller is not enabled for its children (cgroup.subtree_control: \"{}\")", dir,
            controller, enabled);
        return place;
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        place.why_not = fmt::format("cgroup v2 at {}: not writable by this process ({})", dir, errno_name(errno));
        return place;
    }
    place.parent = dir;
    return place;
}

std::vector<std::string> inherited_limits() {
    std::vector<std::string> found;
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find(':'), second = line.find(':', first + 1);
        if (first == std::string::npos || second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
        if (controllers.empty()) {  // cgroup v2
            for (const char* file : {"memory.max", "pids.max", "cpu.max"}) {
                for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
                    const std::string v = first_line(fmt::format("{}{}/{}", mount, path == "/" ? "" : path, file));
                    if (!v.empty()) {
                        found.push_back(fmt::format("{} {} (cgroup v2 {})", file, v, path));
                        break;
                    }
                }
            }
        } else if (controllers == "memory" || controllers == "pids") {  // cgroup v1
            const char* file = controllers == "memory" ? "memory.limit_in_bytes" : "pids.max";
            const std::string v = first_line(fmt::format("/sys/fs/cgroup/{}{}/{}", controllers, path, file));
            if (!v.empty()) {
                const bool unlimited = v == "max" || (v.size() >= 18 && v.rfind("9223372036", 0) == 0);
                found.push_back(
                    fmt::format("{} {} (cgroup v1 {}:{})", file, unlimited ? "unlimited" : v, controllers, path));
            }
        }
    }
    return found;
}

namespace {

// How long a released runaway has to reach its limit (or its own cap) before the demo stops it:
// the wait, the "did not reach its limit" text and the CPU hog's mechanism read this one constant.
constexpr auto kReachWait = 5s;

using RunawayBody = std::function<int(RunawayPage*, int stop_fd)>;
// Puts the runaway, started but held at its go pipe, into its cgroup: "" or why it could not.
using Placement = std::function<std::string(pid_t)>;

// A cgroup's count of its controller acting ("memory.events" "oom_kill"), read after the runaway.
struct ControllerEvent {
    const CgroupDir* dir = nullptr;
    const char* file = "";
    const char* key = "";
    std::string name() const { return fmt::format("{} {}", file, key); }
};

// One runaway: what it exhausts, the mechanism that should stop it, what it runs.
struct Runaway {
    RunawayKind kind{};
    std::string what;
    std::string mechanism;
    RunawayBody body;
    Placement place = {};
    std::optional<ControllerEvent> event = {};
};

RunawayRun described(const Runaway& w) {
    RunawayRun r;
    r.kind = w.kind;
    r.what = w.what;
    r.mechanism = w.mechanism;
    return r;
}

// What stopped a runaway that reached its end, from what it wrote on its page and how it ended.
void judge_stop(RunawayRun& r, const RunawayPage& page, const std::optional<ExitStatus>& status,
                bool killed_by_its_limit, double elapsed_s) {
    r.measured = true;
    r.hard_cap_hit = page.err == 0;
    r.contained = page.err != 0;
    const std::uint64_t amount = page.amount.load();
    switch (r.kind) {
        case RunawayKind::memory_rlimit:
            r.stopped_by = fmt::format("mmap: {} after {} MiB", errno_text(page.err), amount >> 20);
            break;
        case RunawayKind::processes:
        case RunawayKind::processes_cgroup:
            r.stopped_by = fmt::format("fork: {} after {}{}", errno_text(page.err),
                                       counted(static_cast<long long>(amount), "process", "processes"),
                                       page.note[0] ? fmt::format(" ({})", page.note) : "");
            break;
        case RunawayKind::files:
            r.stopped_by = fmt::format("open: {} after {} files", errno_text(page.err), amount);
            break;
        case RunawayKind::memory_cgroup:
            // The OOM killer acting inside the cgroup ends the culprit with SIGKILL.
            r.contained = killed_by_its_limit;
            r.hard_cap_hit = !killed_by_its_limit;
            r.stopped_by = killed_by_its_limit ? fmt::format("{} after {} MiB", status->describe(), amount >> 20)
                                               : fmt::format("nothing: it reached its own cap of {} MiB", amount >> 20);
            break;
        case RunawayKind::cpu:
            r.contained = killed_by_its_limit;
            r.hard_cap_hit = !killed_by_its_limit;
            r.stopped_by =
                killed_by_its_limit
                    ? fmt::format("{} after {:.2f} s ({} spinning threads)", status->describe(), elapsed_s, amount)
                    : fmt::format("nothing: the demo stopped its {} spinning threads after {:.2f} s", amount,
                                  elapsed_s);
            break;
        case RunawayKind::cpu_cgroup:
            // A quota holds a CPU hog to a share, it does not stop it: it is "contained" when the
            // siblings kept running beside it, which the verdict reads from their progress.
            r.contained = r.siblings_alive && r.during.min_rate() > 0;
            r.hard_cap_hit = false;
            r.stopped_by = fmt::format("{} spinning threads for {:.2f} s, then stopped by the demo", amount, elapsed_s);
            break;
        default: break;
    }
}

// Runs one runaway beside two siblings: their progress before, during and after; then what
// stopped it, or why nothing of its limit can be said.
RunawayRun run_one(const Runaway& w, const RunawayOptions& o) {
    RunawayRun r = described(w);
    Siblings siblings;
    std::this_thread::sleep_for(20ms);  // both running
    r.before = siblings.measure(o.window_s);
    Mapping memory = Mapping::anonymous(4096, true);
    auto* page = new (memory.data()) RunawayPage{};
    Pipe stop = Pipe::create(), go = Pipe::create();
    ChildProcess runaway = ChildProcess::fork([&] {
        stop.write_end.reset();
        go.write_end.reset();
        char c;
        if (::read(go.read_end.get(), &c, 1) != 1) return 0;  // not placed: never runs away
        return w.body(page, stop.read_end.get());
    });
    stop.read_end.reset();
    go.read_end.reset();
    if (w.place) {
        r.why_not = w.place(runaway.pid());
        if (!r.why_not.empty()) return r;  // go closes unsent: the runaway ends without running; its handle reaps it
    }
    if (::write(go.write_end.get(), "g", 1) != 1) throw HarnessError(errno, "write(go pipe)");
    const Stopwatch during;
    r.during = siblings.measure(o.window_s);
    // It has reached its end (or its hard cap) by now in any sane run; wait a little more.
    const Nanos reach_deadline = now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(kReachWait).count();
    while (now_ns() < reach_deadline && page->state.load() == 0 && runaway.running() && !runaway.try_wait())
        std::this_thread::sleep_for(1ms);
    const int state = page->state.load();
    const bool running_at_deadline = state == 0 && runaway.running();
    stop.write_end.reset();  // the runaway lets go of what it holds and ends
    const auto status = runaway.wait_for(10s);
    if (!status) runaway.kill_and_wait();
    r.after = siblings.measure(o.window_s);
    r.siblings_alive = siblings.alive();
    if (state < 0) {
        r.why_not = fmt::format("the runaway's set-up failed: {}", errno_name(-state));
        return r;
    }
    const bool killed_by_its_limit =
        status && status->signaled() &&
        ((w.kind == RunawayKind::memory_cgroup) ||
         (w.kind == RunawayKind::cpu && (status->signal() == SIGXCPU || status->signal() == SIGKILL)));
    // The CPU runaway under RLIMIT_CPU sets its state only when the demo's stop came first.
    const bool cpu_capped = w.kind == RunawayKind::cpu && page->state.load() == 1;
    if (state == 0 && !killed_by_its_limit && !cpu_capped) {
        r.why_not = status && !running_at_deadline
                        ? fmt::format("the runaway ended without reaching its limit: {}", status->describe())
                        : fmt::format("the runaway did not reach its limit within {} s, and the demo stopped it",
                                      kReachWait.count());
        return r;
    }
    // A refusal counts as the limit's only with the limit's own errno: ENOMEM from elsewhere
    // (overcommit, a cgroup) is not RLIMIT_AS at work.
    if (page->err != 0 && page->err != limit_errno(w.kind)) {
        r.why_not = fmt::format("the runaway was refused with {}, not its limit's {}: something else stopped it",
                                errno_name(page->err), errno_name(limit_errno(w.kind)));
        return r;
    }
    judge_stop(r, *page, status, killed_by_its_limit, during.elapsed_s());
    if (w.event) weigh_controller_count(r, w.event->name(), w.event->dir->event(w.event->file, w.event->key));
    return r;
}

RunawayRun not_here(RunawayKind kind, std::string what, std::string mechanism, std::string why_not) {
    RunawayRun r = described({kind, std::move(what), std::move(mechanism), {}});
    r.why_not = std::move(why_not);
    return r;
}

}  // namespace

void weigh_controller_count(RunawayRun& r, std::string event, long count) {
    r.controller_event = std::move(event);
    r.controller_count = count;
    r.stopped_by += fmt::format(" ({} {})", r.controller_event, count);
    if (count > 0) return;
    if (r.kind == RunawayKind::cpu_cgroup) {
        r.contained = false;
    } else if (r.contained) {
        r.measured = false;
        r.why_not =
            fmt::format("{}, but {} counted nothing: something else stopped it", r.stopped_by, r.controller_event);
    }
}

std::vector<RunawayRun> run_runaways(const RunawayOptions& o) {
    std::vector<RunawayRun> runs;
    runs.push_back(run_one({RunawayKind::memory_rlimit, "memory: mmap and touch 8 MiB at a time",
                            fmt::format("RLIMIT_AS = its size + {} MiB (hard cap {} MiB)",
                                        (o.limits_beyond_caps ? 2 * o.memory_cap_bytes : o.memory_cap_bytes / 2) >> 20,
                                        o.memory_cap_bytes >> 20),
                            [&](RunawayPage* page, int fd) {
                                return memory_runaway(page, fd, o.memory_cap_bytes, /*limit_as=*/true,
                                                      o.limits_beyond_caps);
                            }},
                           o));
    // The same runaway in a cgroup v2 of its own, where a memory controller is delegated to us:
    // memory.max below its hard cap, no swap; the OOM killer should end the culprit alone.
    constexpr std::size_t kCgroupMemory = std::size_t(64) << 20;
    const CgroupPlace memory_place = cgroup_place("memory");
    if (!memory_place.parent.empty()) {
        CgroupDir dir(memory_place.parent, "memory");
        dir.write("memory.max", std::to_string(kCgroupMemory));
        dir.write("memory.swap.max", "0", /*optional=*/true);
        RunawayRun r =
            run_one({RunawayKind::memory_cgroup, "memory in its own cgroup: mmap and touch 8 MiB at a time",
                     fmt::format("cgroup v2 memory.max {} MiB, no swap (hard cap {} MiB)", kCgroupMemory >> 20,
                                 o.memory_cap_bytes >> 20),
                     [&](RunawayPage* page, int fd) {
                         return memory_runaway(page, fd, o.memory_cap_bytes, /*limit_as=*/false, false);
                     },
                     [&](pid_t pid) { return dir.enter(pid); }, ControllerEvent{&dir, "memory.events", "oom_kill"}},
                    o);
        runs.push_back(std::move(r));
    } else {
        runs.push_back(not_here(RunawayKind::memory_cgroup, "memory in its own cgroup", "cgroup v2 memory.max",
                                memory_place.why_not));
    }
    runs.push_back(run_one(
        {RunawayKind::processes, "processes: a fork loop, each child waiting",
         fmt::format(
             "RLIMIT_NPROC {} its processes (as uid {}: the kernel does not apply it to root; hard cap {} forks)",
             o.limits_beyond_caps ? fmt::format("{} above", 2 * o.process_cap)
                                  : fmt::format("{} above", o.process_cap / 4),
             ::geteuid() == 0 ? kNobody : int(::geteuid()), o.process_cap),
         [&](RunawayPage* page, int fd) {
             return process_runaway(page, fd, o.process_cap, o.limits_beyond_caps, /*nproc_limit=*/true);
         }},
        o));
    // The same fork loop in a cgroup v2 of its own under pids.max, which binds root too.
    const CgroupPlace pids_place = cgroup_place("pids");
    if (!pids_place.parent.empty()) {
        CgroupDir dir(pids_place.parent, "pids");
        const int pids_max = o.limits_beyond_caps ? 2 * o.process_cap : o.process_cap / 4;
        dir.write("pids.max", std::to_string(pids_max));
        runs.push_back(
            run_one({RunawayKind::processes_cgroup, "processes in their own cgroup: a fork loop, each child waiting",
                     fmt::format("cgroup v2 pids.max {} (itself included; hard cap {} forks)", pids_max, o.process_cap),
                     [&](RunawayPage* page, int fd) {
                         return process_runaway(page, fd, o.process_cap, o.limits_beyond_caps, /*nproc_limit=*/false);
                     },
                     [&](pid_t pid) { return dir.enter(pid); }, ControllerEvent{&dir, "pids.events", "max"}},
                    o));
    } else {
        runs.push_back(not_here(RunawayKind::processes_cgroup, "processes in their own cgroup", "cgroup v2 pids.max",
                                pids_place.why_not));
    }
    runs.push_back(run_one(
        {RunawayKind::files, "file descriptors: open /dev/null until refused",
         fmt::format("RLIMIT_NOFILE {} (hard cap {} opens)", o.limits_beyond_caps ? 2 * o.file_cap : 64, o.file_cap),
         [&](RunawayPage* page, int fd) { return file_runaway(page, fd, o.file_cap, o.limits_beyond_caps); }},
        o));
    // Fair shares: two siblings alone get min(1, CPUs/2) of a CPU each; beside `cpus` hog threads,
    // min(1, CPUs/(2 + cpus)).
    const double alone = std::min(1.0, o.cpus / 2.0), beside = std::min(1.0, o.cpus / (2.0 + o.cpus));
    // Under RLIMIT_CPU: SIGXCPU after 1 s of CPU time (its threads' together), SIGKILL a second later.
    // Until then, the scheduler's fair share is all that holds it.
    runs.push_back(run_one(
        {RunawayKind::cpu, fmt::format("CPU: {} spinning at nice 0", counted(o.cpus, "thread")),
         fmt::format("RLIMIT_CPU {} s (SIGXCPU; the demo's cap: {} s), and until then the scheduler's fair share, "
                     "which costs each sibling {:.0f}%",
                     o.limits_beyond_caps ? 60 : 1, kReachWait.count(), 100 * (1 - beside / alone)),
         [&](RunawayPage* page, int fd) { return cpu_runaway(page, fd, o.cpus, o.limits_beyond_caps ? 60 : 1); }},
        o));
    // The same hog in a cgroup v2 of its own with a quota of half a CPU.
    const CgroupPlace cpu_place = cgroup_place("cpu");
    if (!cpu_place.parent.empty()) {
        CgroupDir dir(cpu_place.parent, "cpu");
        dir.write("cpu.max", "50000 100000");
        const double quota_cpus = 0.5;
        const double with_quota = std::min(alone, (o.cpus - std::min<double>(quota_cpus, o.cpus)) / 2.0);
        runs.push_back(run_one(
            {RunawayKind::cpu_cgroup, fmt::format("CPU in its own cgroup: {} spinning", counted(o.cpus, "thread")),
             fmt::format(
                 "cgroup v2 cpu.max 50000/100000 (half a CPU), which leaves each sibling {:.0f}% of its rate alone",
                 100 * std::max(0.0, with_quota) / alone),
             [&](RunawayPage* page, int fd) { return cpu_runaway(page, fd, o.cpus); },
             [&](pid_t pid) { return dir.enter(pid); }, ControllerEvent{&dir, "cpu.stat", "nr_throttled"}},
            o));
    } else {
        runs.push_back(
            not_here(RunawayKind::cpu_cgroup, "CPU in its own cgroup", "cgroup v2 cpu.max", cpu_place.why_not));
    }
    return runs;
}

}  // namespace proclab::isolation_matrix
