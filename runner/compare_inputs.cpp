// What `proclab compare` was given: runs, a folder of runs (a fleet), the corpus beside them.
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

CompareInputs load_compare_inputs(const std::vector<std::string>& args) {
    namespace fs = std::filesystem;
    CompareInputs in;
    std::map<std::string, int> used;
    auto add = [&](const fs::path& path, std::string name) {
        if (const int n = ++used[name]; n > 1) name += fmt::format("#{}", n);
        in.runs.push_back(load_run(path, std::move(name)));
    };
    auto failure_note = [&](const fs::path& note) {
        std::string why = read_small_file(note.string()).value_or("");
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        in.failed_hosts.push_back(fmt::format("{}: no run, the fleet playbook says: {}", note.stem().string(),
                                              why.empty() ? "(empty note)" : why));
    };
    for (const auto& arg : args) {
        fs::path path = fs::path(arg).lexically_normal();
        if (path.has_parent_path() && path.filename().empty()) path = path.parent_path();  // "results/host/"
        std::error_code ec;
        if (path.extension() == ".failed" &&
            fs::is_regular_file(path, ec)) {  // `proclab compare results/*` after a host failed
            failure_note(path);
            continue;
        }
        if (!fs::is_directory(path, ec) || fs::exists(path / "suite.json", ec)) {
            const bool folder = fs::is_directory(path, ec);
            std::string name =
                folder ? fs::absolute(path).lexically_normal().filename().string() : path.stem().string();
            if (name.empty() || name == ".") name = path.string();
            add(path, name);
            continue;
        }
        // A folder of runs: its report folders and suite JSON files, in name order.
        std::vector<fs::path> entries;
        std::vector<fs::path> notes;
        for (const auto& e : fs::directory_iterator(path, ec)) {
            if ((e.is_directory() && fs::exists(e.path() / "suite.json")) ||
                (e.is_regular_file() && e.path().extension() == ".json"))
                entries.push_back(e.path());
            else if (e.is_regular_file() && e.path().extension() == ".failed") notes.push_back(e.path());
        }
        std::sort(notes.begin(), notes.end());
        for (const auto& note : notes) failure_note(note);
        if (ec) throw std::runtime_error(fmt::format("{}: cannot be read ({})", path.string(), ec.message()));
        if (entries.empty())
            throw std::runtime_error(fmt::format(
                "{}: no runs in this folder (a report folder holds suite.json; a folder of runs holds report "
                "folders or suite JSON files)",
                path.string()));
        std::sort(entries.begin(), entries.end());
        for (const auto& e : entries) add(e, fs::is_directory(e) ? e.filename().string() : e.stem().string());
        in.folder_of_runs = true;
    }
    return in;
}

}  // namespace proclab::suite
