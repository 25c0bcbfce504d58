// The exit codes of every proclab program, each command listing in its --help only those it can
// return (cli.hpp's exit_code_footer).
#pragma once

namespace proclab {

enum ExitCode : int {
    kExitOk = 0,
    kExitRefuted = 1,  // a claim was refuted, with --strict
    kExitUsage = 2,    // bad input: one line on stderr
    kExitHarness = 3,  // the program itself failed: one line naming the call and errno
    kExitTimeout = 4,  // ran past --timeout: every child killed and reaped, one line on stderr
};

}  // namespace proclab
