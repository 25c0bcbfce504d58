// A file written all at once or not at all: created up front under a temporary name (so an
// unwritable path is reported before any work), renamed into place on commit, unlinked otherwise,
// also on Ctrl-C and --timeout through the cleanup registry.
//
// A path that is a symbolic link or names no regular file (/dev/null, /dev/stdout, a FIFO) is
// opened and written in place: a rename there would replace the device node or the link itself.
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
    std::string path_, temp_, error_;  // temp_ empty: written in place
    UniqueFd fd_;
};

// Whether `path` names the file this process's stdout is (/dev/stdout, /dev/fd/1, or the file
// stdout was redirected to): JSON asked for there goes to stdout alone, the text for people to
// stderr, as with "-".
bool names_stdout(const std::string& path);

}  // namespace proclab
