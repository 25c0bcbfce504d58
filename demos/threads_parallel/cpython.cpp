#include "threads_parallel/cpython.hpp"

#include "proclab/render.hpp"
#include "proclab/spawn.hpp"

#include <fmt/format.h>

namespace proclab::threads_parallel {

namespace {
// Prints one JSON line. The work is split evenly, so every variant does the same total.
constexpr const char* kPythonScript = R"PY(
import hashlib, json, os, resource, sys, sysconfig, threading, time
n, work, hashes, mib = (int(a) for a in sys.argv[1:5])

def spin(k):
    x = 0
    for i in range(k):
        x += i * i
    return x

buf = b"x" * (mib << 20)
def hash_many(k):
    for _ in range(k):
        hashlib.sha256(buf).digest()

def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime

# Each returns [wall seconds, CPU seconds used meanwhile]: CPU / wall is how many CPUs were busy.
def in_threads(count, fn, arg):
    ts = [threading.Thread(target=fn, args=(arg,)) for _ in range(count)]
    c0, t0 = cpu(resource.RUSAGE_SELF), time.perf_counter()
    for t in ts: t.start()
    for t in ts: t.join()
    return [time.perf_counter() - t0, cpu(resource.RUSAGE_SELF) - c0]

def in_processes(count, fn, arg):
    c0, t0 = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            fn(arg)
            os._exit(0)
        pids.append(pid)
    for p in pids:
        os.waitpid(p, 0)
    return [time.perf_counter() - t0, cpu(resource.RUSAGE_CHILDREN) - c0]

spin(work // 20)  # warm-ups: the interpreter's loop, and hashlib with the buffer's pages
hash_many(1)
gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
print(json.dumps({
    "version": sys.version.split()[0],
    "implementation": sys.implementation.name,
    "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": gil,
    "switch_interval_s": sys.getswitchinterval(),
    "one_thread_s": in_threads(1, spin, work),
    "threads_s": in_threads(n, spin, work // n),
    "processes_s": in_processes(n, spin, work // n),
    "hash_one_thread_s": in_threads(1, hash_many, hashes),
    "hash_threads_s": in_threads(n, hash_many, hashes // n),
}))
)PY";

}  // namespace

CPython run_cpython(int n, const CPythonWork& sizes) {
    CPython py;
    py.n = n;
    const auto exe = find_program("python3");
    if (exe.empty()) {
        py.why_not = "python3 is not installed (not on PATH)";
        return py;
    }
    const std::string work = std::to_string(sizes.loop_steps);
    const std::string hashes = std::to_string(n * sizes.hashes_per_worker);
    const std::string mib = std::to_string(sizes.hash_mib);
    auto run = run_captured(exe, {"-c", kPythonScript, std::to_string(n), work, hashes, mib},
                            {.timeout = std::chrono::seconds(120)});
    if (!run.status.exited() || run.status.exit_code() != 0) {
        auto err = run.err.substr(run.err.rfind('\n', run.err.size() >= 2 ? run.err.size() - 2 : 0) + 1);
        py.why_not = fmt::format("python3 ({}) ended: {}: {}", exe.string(), run.status.describe(), err);
        while (!py.why_not.empty() && py.why_not.back() == '\n') py.why_not.pop_back();
        return py;
    }
    try {
        const auto j = Json::parse(run.out);
        py.ran = true;
        py.version = j.at("version");
        py.implementation = j.at("implementation");
        py.free_threaded_build = j.at("free_threaded_build");
        py.gil_enabled = j.at("gil_enabled");
        auto timing = [&](const char* key) {
            return Timing{j.at(key).at(0).get<double>(), j.at(key).at(1).get<double>()};
        };
        py.one = timing("one_thread_s");
        py.threads = timing("threads_s");
        py.processes = timing("processes_s");
        py.hash_one = timing("hash_one_thread_s");
        py.hash_threads = timing("hash_threads_s");
    } catch (const std::exception& e) {
        py.ran = false;
        py.why_not = fmt::format("python3 printed no usable result: {}", e.what());
    }
    return py;
}

}  // namespace proclab::threads_parallel
