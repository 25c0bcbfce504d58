#include "proclab/progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

namespace proclab::progress {

namespace {
struct Line {
    bool active = false;
    std::string demo;
};
Line& line() {
    static Line l;
    return l;
}

// A terminal that understands "erase to the end of the line" (not TERM=dumb).
bool stderr_is_a_terminal() {
    if (::isatty(STDERR_FILENO) != 1) return false;
    const char* term = std::getenv("TERM");
    return !term || std::strcmp(term, "dumb") != 0;
}

void show(const std::string& text) {
    const std::string out = fmt::format("\r\033[K{}", text);
    // stderr is unbuffered: one write, so a line never arrives in pieces.
    [[maybe_unused]] const auto written = ::write(STDERR_FILENO, out.data(), out.size());
}
}  // namespace

void start(std::string_view demo) {
    Line& l = line();
    l.active = stderr_is_a_terminal();
    l.demo = demo;
    if (l.active) show(fmt::format("{}: measuring ...", demo));
}

void step(std::string_view what) {
    const Line& l = line();
    if (l.active) show(fmt::format("{}: {} ...", l.demo, what));
}

void done() {
    Line& l = line();
    if (l.active) show("");
    l.active = false;
}

}  // namespace proclab::progress
