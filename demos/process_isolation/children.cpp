// The children's side of process_isolation: the state they inspect and report, the helpers the
// parent reads their reports with, and the child modes run in a fresh copy of this executable.
#include "process_isolation/experiments.hpp"

#include "proclab/fault.hpp"
#include "proclab/handles.hpp"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

namespace proclab::process_isolation {

namespace bip = boost::interprocess;

char g_marker[64] = "initial value in the binary";

std::string hex(const void* p) { return fmt::format("{:#x}", reinterpret_cast<std::uintptr_t>(p)); }

int count_open_fds() {
    int n = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++n;
    return n - 1;  // the directory stream's own fd
}

unsigned long long nofile_soft_limit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

namespace {

bool address_mapped(std::uintptr_t address) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::uintptr_t start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &start, &end) == 2 && address >= start && address < end)
            return true;
    }
    return false;
}

std::string escape(std::string s) {
    std::replace(s.begin(), s.end(), ' ', '_');
    return s;
}

}  // namespace

std::map<std::string, std::string> parse_key_values(const std::string& line) {
    std::map<std::string, std::string> out;
    std::istringstream in(line);
    std::string token;
    while (in >> token) {
        const auto eq = token.find('=');
        if (eq != std::string::npos) out[token.substr(0, eq)] = token.substr(eq + 1);
    }
    return out;
}

std::string unescape(const std::string& s) {
    std::string out = s;
    std::replace(out.begin(), out.end(), '_', ' ');
    return out;
}

int child_report(const std::vector<std::string>& args) {
    const std::string tag = args.empty() ? "child" : args[0];
    if (args.size() > 1 && args[1] == "lower-nofile") {
        rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = std::min<rlim_t>(rl.rlim_cur, 64);
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    copy_text(g_marker, sizeof g_marker, "written by " + tag);
    auto heap = std::make_unique<char[]>(64);
    copy_text(heap.get(), 64, "heap of " + tag);
    std::printf("pid=%d ppid=%d global_addr=%s global=%s heap_addr=%s heap=%s fds=%d nofile=%llu\n",
                static_cast<int>(::getpid()), static_cast<int>(::getppid()), hex(g_marker).c_str(),
                escape(g_marker).c_str(), hex(heap.get()).c_str(), escape(heap.get()).c_str(), count_open_fds(),
                static_cast<unsigned long long>(nofile_soft_limit()));
    return 0;
}

// Dereferences an address that another process handed over. Prints whether it is mapped here
// first, so the parent knows even when the load faults.
int child_deref(const std::vector<std::string>& args) {
    if (args.empty()) return 2;
    const auto address = static_cast<std::uintptr_t>(std::stoull(args[0], nullptr, 16));
    die_plainly_on_faults();
    std::printf("mapped=%s\n", address_mapped(address) ? "yes" : "no");
    std::fflush(stdout);
    std::string seen;
    for (std::size_t i = 0; i < 48; ++i) {
        const char c = load_at(address + i);
        if (c == '\0') break;
        seen += c;
    }
    std::printf("read=%s\n", escape(seen.empty() ? "(empty)" : seen).c_str());
    return 0;
}

// Opens a named segment by name (not inherited: this is a fresh exec) and writes into it.
int child_shm_write(const std::vector<std::string>& args) {
    if (args.size() < 2) return 2;
    bip::shared_memory_object segment(bip::open_only, args[0].c_str(), bip::read_write);
    bip::mapped_region region(segment, bip::read_write);
    copy_text(static_cast<char*>(region.get_address()), region.get_size(), args[1]);
    std::printf("addr=%s\n", hex(region.get_address()).c_str());
    return 0;
}

}  // namespace proclab::process_isolation
