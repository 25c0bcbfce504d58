// What the width tests share: the lines of a command's output wider than the terminal, and the
// terminal width a piped program reads (COLUMNS) set for one test's commands.
#pragma once

#include "proclab/render.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace proclab::test {

// The lines of `text` wider than `columns` terminal columns, each with its width.
inline std::vector<std::string> wider_than(const std::string& text, std::size_t columns) {
    std::vector<std::string> wide;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const auto line = text.substr(start, end - start);
        if (display_width(line) > columns) wide.push_back(fmt::format("{} columns: {}", display_width(line), line));
        start = end + 1;
    }
    return wide;
}

// COLUMNS for the programs this test starts, as a terminal of that width would make a shell export
// it; unset again when the test ends.
class TerminalColumns {
public:
    explicit TerminalColumns(std::size_t columns) { ::setenv("COLUMNS", std::to_string(columns).c_str(), 1); }
    ~TerminalColumns() { ::unsetenv("COLUMNS"); }
    TerminalColumns(const TerminalColumns&) = delete;
    TerminalColumns& operator=(const TerminalColumns&) = delete;
};

}  // namespace proclab::test
