// A value that passed its declared range but does not fit this machine (a CPU outside the
// affinity mask, say): thrown from a demo's run() or a common helper that reads an option, and
// answered like any usage error (one line, exit 2). Its own header so the common library can
// throw it without depending on the harness (demo.hpp).
#pragma once

#include <stdexcept>

namespace proclab {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace proclab
