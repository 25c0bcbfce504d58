#include "proclab/topology.hpp"

#include "proclab/environment.hpp"
#include "proclab/sizes.hpp"
#include "proclab/units.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <limits>

namespace proclab {

namespace {

// The whole of `text` as an int: a CPU, a node, a sysfs value.
std::optional<int> small_int(std::string_view text) {
    const auto v = whole_number(text);
    if (!v || *v < std::numeric_limits<int>::min() || *v > std::numeric_limits<int>::max()) return std::nullopt;
    return int(*v);
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view text) {
    std::vector<int> out;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    if (text.empty()) return out;
    auto number = [](std::string_view s, int& v) {
        const auto n = small_int(s);
        if (!n || *n < 0) return false;
        v = *n;
        return true;
    };
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view part = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto dash = part.find('-');
        int a = 0, b = 0;
        if (dash == std::string_view::npos) {
            if (!number(part, a)) return {};
            b = a;
        } else if (!number(part.substr(0, dash), a) || !number(part.substr(dash + 1), b) || b < a) {
            return {};
        }
        for (int c = a; c <= b; ++c) out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

const CpuPlace* Topology::find(int cpu) const& {
    for (const auto& c : cpus)
        if (c.cpu == cpu) return &c;
    return nullptr;
}

namespace {

std::optional<std::string> read_trimmed(const std::filesystem::path& p) {
    auto text = read_small_file(p.string());
    if (!text) return std::nullopt;
    while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    return text;
}

std::optional<int> read_int(const std::filesystem::path& p) {
    const auto text = read_trimmed(p);
    return text ? small_int(*text) : std::nullopt;
}

}  // namespace

Topology read_topology(const std::vector<int>& cpus, const std::filesystem::path& root) {
    Topology t;
    // NUMA nodes: node<M>/cpulist.
    std::vector<std::pair<int, std::vector<int>>> nodes;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root / "node", ec)) {
        const auto name = entry.path().filename().string();
        const auto id = name.rfind("node", 0) == 0 ? small_int(std::string_view(name).substr(4)) : std::nullopt;
        if (!id || *id < 0) continue;
        if (auto list = read_trimmed(entry.path() / "cpulist")) nodes.emplace_back(*id, parse_cpu_list(*list));
    }
    if (nodes.empty()) t.unknown.push_back((root / "node").string() + ": no NUMA node listed");
    for (int cpu : cpus) {
        CpuPlace p;
        p.cpu = cpu;
        const auto dir = root / "cpu" / ("cpu" + std::to_string(cpu));
        if (auto v = read_int(dir / "topology" / "physical_package_id")) p.package = *v;
        else t.unknown.push_back((dir / "topology" / "physical_package_id").string());
        if (auto v = read_int(dir / "topology" / "core_id")) p.core = *v;
        if (auto list = read_trimmed(dir / "topology" / "thread_siblings_list")) p.smt_siblings = parse_cpu_list(*list);
        else t.unknown.push_back((dir / "topology" / "thread_siblings_list").string());
        for (int index = 0;; ++index) {
            const auto cache = dir / "cache" / ("index" + std::to_string(index));
            if (!std::filesystem::exists(cache, ec)) break;
            const auto level = read_int(cache / "level");
            const auto type = read_trimmed(cache / "type");
            const auto shared = read_trimmed(cache / "shared_cpu_list");
            if (!level || !type || !shared || *type == "Instruction") continue;
            if (*level > p.llc_level) {
                p.llc_level = *level;
                p.llc_cpus = parse_cpu_list(*shared);
                p.llc_bytes = 0;
                // sysfs writes a cache's size as "32K", "1024K", "16384K".
                if (const auto size = read_trimmed(cache / "size"))
                    if (const auto bytes = parse_byte_list(*size, 0, std::numeric_limits<std::size_t>::max());
                        bytes && bytes->size() == 1)
                        p.llc_bytes = bytes->front();
            }
        }
        if (p.llc_level == 0) t.unknown.push_back((dir / "cache").string() + ": no data or unified cache listed");
        for (const auto& [id, list] : nodes)
            if (std::find(list.begin(), list.end(), cpu) != list.end()) p.node = id;
        t.cpus.push_back(std::move(p));
    }
    return t;
}

std::string_view to_string(PairGroup g) {
    switch (g) {
        case PairGroup::smt_siblings: return "SMT siblings (one core)";
        case PairGroup::shared_llc: return "shared last-level cache";
        case PairGroup::same_package: return "same package, no shared cache";
        case PairGroup::same_node: return "other package, same NUMA node";
        case PairGroup::other_node: return "other NUMA node";
        case PairGroup::unknown: return "unknown";
    }
    return "unknown";
}

std::optional<std::string> describe_topology(const Topology& t) {
    std::set<int> packages, nodes;
    std::set<std::pair<int, int>> cores;
    std::set<std::vector<int>> caches;
    std::size_t most_siblings = 0;
    for (const auto& c : t.cpus) {
        if (c.package < 0 || c.core < 0) continue;
        packages.insert(c.package);
        cores.insert({c.package, c.core});
        if (c.node >= 0) nodes.insert(c.node);
        if (!c.llc_cpus.empty()) caches.insert(c.llc_cpus);
        most_siblings = std::max(most_siblings, c.smt_siblings.size());
    }
    if (cores.empty()) return std::nullopt;
    auto n = [](std::size_t v) { return static_cast<long long>(v); };
    std::string out = fmt::format("{}, {}", counted(n(packages.size()), "socket"), counted(n(cores.size()), "core"));
    if (most_siblings > 0) out += ", " + counted(n(most_siblings), "thread per core", "threads per core");
    if (!nodes.empty()) out += ", " + counted(n(nodes.size()), "NUMA node");
    if (!caches.empty()) out += ", " + counted(n(caches.size()), "last-level cache");
    return out;
}

std::optional<std::string> smt_sentence(const Topology& t) {
    std::set<int> read;
    for (const auto& c : t.cpus) read.insert(c.cpu);
    std::set<std::vector<int>> cores;  // the siblings among the CPUs read, one entry per core
    std::size_t most = 0;
    for (const auto& c : t.cpus) {
        std::vector<int> here;
        for (int s : c.smt_siblings)
            if (read.count(s)) here.push_back(s);
        if (here.empty()) return std::nullopt;  // not readable: nothing is claimed
        cores.insert(here);
        most = std::max(most, here.size());
    }
    if (most < 2) return std::nullopt;
    auto n = [](std::size_t v) { return static_cast<long long>(v); };
    return fmt::format(
        "The {} here are the kernel's logical CPUs: {} on {} (SMT). The scheduler counts each sibling as a CPU "
        "and hands out CPU time one turn per logical CPU, which is what this demo counts; how much work a turn "
        "does is not measured here, and siblings share their core's execution units.",
        counted(n(t.cpus.size()), "CPU"), counted(n(most), "thread per core", "threads per core"),
        counted(n(cores.size()), "core"));
}

PairGroup classify(const Topology& t, int a, int b) {
    const CpuPlace* x = t.find(a);
    const CpuPlace* y = t.find(b);
    if (!x || !y) return PairGroup::unknown;
    auto has = [](const std::vector<int>& v, int c) { return std::find(v.begin(), v.end(), c) != v.end(); };
    if (has(x->smt_siblings, b)) return PairGroup::smt_siblings;
    if (has(x->llc_cpus, b)) return PairGroup::shared_llc;
    if (x->package >= 0 && x->package == y->package) return PairGroup::same_package;
    if (x->node >= 0 && y->node >= 0) return x->node == y->node ? PairGroup::same_node : PairGroup::other_node;
    return PairGroup::unknown;
}

}  // namespace proclab
