// The corpus of recorded runs (docs/results): where it is, how a run is named in it, and the runs
// nearest to a given one.
#include "fleet.hpp"

#include "proclab/aggregate.hpp"
#include "proclab/claims.hpp"
#include "proclab/environment.hpp"
#include "proclab/stats.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace proclab::suite {

std::string cpu_vendor(const std::string& cpu_model) {
    std::string lower;
    for (char c : cpu_model) lower += char(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [needle, vendor] : std::vector<std::pair<std::string, std::string>>{{"intel", "Intel"},
                                                                                         {"amd", "AMD"},
                                                                                         {"ampere", "Ampere"},
                                                                                         {"neoverse", "Arm"},
                                                                                         {"cortex", "Arm"},
                                                                                         {"apple", "Apple"}})
        if (lower.find(needle) != std::string::npos) return vendor;
    const auto end = cpu_model.find(' ');
    return cpu_model.substr(0, end);
}

namespace {

// Lower case letters, digits, '.' and '-'; "(R)" and "(TM)" dropped; runs of anything else one '-'.
std::string slug(std::string text) {
    for (const char* mark : {"(R)", "(r)", "(TM)", "(tm)"})
        for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark))
            text.erase(at, std::char_traits<char>::length(mark));
    std::string out;
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '.') out += char(std::tolower(u));
        else if (!out.empty() && out.back() != '-') out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "unknown" : out;
}

}  // namespace

std::string corpus_stem(const Environment& env) {
    return slug(fact_value(env, "cpu_model")) + "_" + slug(fact_value(env, "kernel_release"));
}

std::filesystem::path corpus_directory(const std::filesystem::path& runner_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (const char* env = std::getenv("PROCLAB_CORPUS_DIR"); env && *env) return env;
    const fs::path installed = runner_dir / ".." / "share" / "doc" / "proclab" / "results";
    if (fs::is_directory(installed, ec)) return installed.lexically_normal();
    if (const fs::path source = source_corpus_directory(); fs::is_directory(source, ec)) return source;
    return {};
}

std::vector<LoadedRun> nearest_in_corpus(const std::vector<LoadedRun>& runs, const std::filesystem::path& corpus,
                                         std::vector<std::string>& how) {
    namespace fs = std::filesystem;
    std::vector<LoadedRun> all;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(corpus, ec))
        if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
    if (ec)
        throw std::runtime_error(fmt::format("--with-corpus: {} cannot be read ({})", corpus.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& f : files) all.push_back(load_run(f, f.stem().string()));

    std::vector<LoadedRun> chosen;
    std::set<std::string> taken;
    for (const auto& run : runs) {
        const std::string model = fact_value(run.suite.environment, "cpu_model");
        const std::string vendor = cpu_vendor(model);
        std::vector<const LoadedRun*> same_model, same_vendor;
        for (const auto& c : all) {
            std::error_code e1;
            if (fs::equivalent(c.path, run.path, e1)) continue;  // the user's run is itself in the corpus
            const std::string m = fact_value(c.suite.environment, "cpu_model");
            if (m == model) same_model.push_back(&c);
            else if (cpu_vendor(m) == vendor) same_vendor.push_back(&c);
        }
        auto pick = same_model.empty() ? same_vendor : same_model;
        // Of those, the runs made the same way (full or --quick), where there are any.
        const std::string mode = suite_mode(run.suite);
        std::vector<const LoadedRun*> same_mode;
        for (const auto* c : pick)
            if (suite_mode(c->suite) == mode) same_mode.push_back(c);
        const bool by_mode = !same_mode.empty() && same_mode.size() < pick.size();
        if (by_mode) pick = same_mode;
        std::vector<std::string> names;
        for (const auto* c : pick) {
            names.push_back(c->label);
            if (taken.insert(c->path).second) chosen.push_back(*c);
        }
        if (pick.empty())
            how.push_back(
                fmt::format("{}: no corpus run has its CPU model ({}) or vendor ({}); the corpus ({}) holds {} run(s).",
                            run.label, model, vendor, corpus.string(), all.size()));
        else
            how.push_back(fmt::format("{}: beside {} corpus run(s) with its {} ({}){}: {}.", run.label, pick.size(),
                                      same_model.empty() ? "vendor" : "CPU model", same_model.empty() ? vendor : model,
                                      by_mode ? fmt::format(", run as it was ({})", mode) : "",
                                      fmt::join(names, ", ")));
    }
    return chosen;
}

}  // namespace proclab::suite
