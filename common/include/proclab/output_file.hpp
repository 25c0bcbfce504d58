// A file written all at once or not at all: created up front under a temporary name (so an
// unwritable path is reported before any work), renamed into place on commit, unlinked otherwise,
// also on Ctrl-C and --timeout through the cleanup registry.
#pragma once

#include "proclab/handles.hpp"

#include <string>

namespace proclab {

class OutputFile {
public:
    explicit OutputFile(std::string path);
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile();

    // Empty when the file could be created; else one line: "cannot write PATH: reason".
    const std::string& error() const { return error_; }
    void commit(const std::string& text);

private:
    std::string path_, temp_, error_;
    UniqueFd fd_;
};

}  // namespace proclab
