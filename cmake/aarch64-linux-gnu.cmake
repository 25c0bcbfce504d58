# Cross build for arm64 (the `arm64` preset): Debian's g++-aarch64-linux-gnu compiles, and its
# tests run under qemu-user (qemu-user-static), with the cross toolchain's own libc and libstdc++
# in /usr/aarch64-linux-gnu as the emulated machine's library root. No `:arm64` multiarch package
# is needed: Boost, nlohmann-json, CLI11 and Catch2 are header-only, and fmt is used header-only
# here (its Debian library is built for the host).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

find_program(PROCLAB_QEMU_AARCH64 qemu-aarch64-static)
if(NOT PROCLAB_QEMU_AARCH64)
  message(FATAL_ERROR "qemu-aarch64-static not found (Debian: apt-get install qemu-user-static)")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${PROCLAB_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)

# Libraries from the target's root only; headers and package configs from the host's too (the
# header-only ones live there).
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# fmt's package config is the host's (its headers serve both; its library is not used here).
execute_process(COMMAND uname -m OUTPUT_VARIABLE proclab_host_machine OUTPUT_STRIP_TRAILING_WHITESPACE)
set(fmt_DIR "/usr/lib/${proclab_host_machine}-linux-gnu/cmake/fmt" CACHE PATH "the host's fmt package config")
