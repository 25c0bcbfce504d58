// The source tree's absolute path, compiled into this file alone (runner/CMakeLists.txt): the rest
// of the runner then compiles to the same objects in every checkout, so a compiler cache shared
// between checkouts (CI's fresh clone and a developer's tree) reuses them.
#include "fleet.hpp"

namespace proclab::suite {

std::filesystem::path source_corpus_directory() { return PROCLAB_SOURCE_CORPUS_DIR; }

}  // namespace proclab::suite
