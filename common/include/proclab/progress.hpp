// One line on stderr that says what a long demo is doing, for a person watching a terminal: a
// single demo otherwise shows a blank screen until its report (threads_parallel: about 15 s).
// Only when stderr is a terminal (the runner and the tests capture it, so they never see it);
// written between measurements, never during one; erased before the report prints.
#pragma once

#include <string_view>

namespace proclab::progress {

// "threads_parallel: measuring": the demo has started. Nothing when stderr is not a terminal.
void start(std::string_view demo);
// "threads_parallel: trial 2 of 5": replaces the line.
void step(std::string_view what);
// Erases the line, so the report starts on a clean one.
void done();

}  // namespace proclab::progress
