// Where the built executables and the source tree are (tests/paths.cpp holds the two paths).
#pragma once

#include <filesystem>

namespace proclab::test {

std::filesystem::path bin_dir();     // <build>/bin: the demos, the runner
std::filesystem::path source_dir();  // the checkout: docs/, tests/data/

}  // namespace proclab::test
