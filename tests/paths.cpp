// The two absolute paths the tests need, compiled into this file alone: every other test file then
// compiles to the same object in any checkout, so a compiler cache shared between checkouts (CI's
// fresh clone and a developer's tree) reuses them.
#include "paths.hpp"

namespace proclab::test {

std::filesystem::path bin_dir() { return PROCLAB_BIN_DIR; }
std::filesystem::path source_dir() { return PROCLAB_SOURCE_DIR; }

}  // namespace proclab::test
