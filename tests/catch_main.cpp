// Catch2's main for a cross build: Debian's libCatch2WithMain.a is built for the host, so the
// arm64 preset compiles Catch2's own main from its header instead.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
