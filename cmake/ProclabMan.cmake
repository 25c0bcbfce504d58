# Man pages generated from each executable's --help with help2man (Debian's help2man package), so
# --help stays the one reference and the pages cannot drift from it: proclab(1) with every
# subcommand's help, and one page per demo under the demo's own name (the demos are installed in
# libexec/proclab, where the runner finds them; their pages say so). Installed into share/man/man1
# and packaged with the .deb. Without help2man the build goes on without pages and says so;
# -DPROCLAB_MAN_PAGES=OFF skips them.
option(PROCLAB_MAN_PAGES "Generate man pages from --help with help2man" ON)
find_program(HELP2MAN_EXECUTABLE help2man)

function(proclab_add_man_pages)
  if(NOT PROCLAB_MAN_PAGES)
    return()
  endif()
  if(NOT HELP2MAN_EXECUTABLE)
    message(STATUS "help2man not found: no man pages (Debian: apt-get install help2man)")
    return()
  endif()
  get_property(demos GLOBAL PROPERTY PROCLAB_DEMOS)
  set(pages "")
  set(targets proclab ${demos})
  foreach(target IN LISTS targets)
    set(out ${CMAKE_BINARY_DIR}/man/${target}.1)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${HELP2MAN_EXECUTABLE} -DEXE=$<TARGET_FILE:${target}> -DOUT=${out}
              -DVERSION=${PROJECT_VERSION} "-DDEMOS=${demos}"
              -P ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
      DEPENDS ${target} ${PROJECT_SOURCE_DIR}/cmake/man_page.cmake
      COMMENT "man page ${target}.1 from ${target} --help"
      VERBATIM)
    list(APPEND pages ${out})
  endforeach()
  add_custom_target(man_pages ALL DEPENDS ${pages})
  install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endfunction()
