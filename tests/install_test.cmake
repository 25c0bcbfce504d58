# ctest -R install: `cmake --install` into an empty prefix, then the quick suite run from there,
# in a folder outside the source and build trees. The runner must find its demos installed.
#   cmake -DBUILD_DIR=... -DPREFIX=... -DWORK_DIR=... -P install_test.cmake
file(REMOVE_RECURSE "${PREFIX}" "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}" RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install into ${PREFIX} failed: ${rc}")
endif()
set(expected bin/proclab libexec/proclab/process_isolation libexec/proclab/ipc_cost share/doc/proclab/README.md)
if(EXISTS "${BUILD_DIR}/man/proclab.1")  # the man pages, where help2man made them
  list(APPEND expected share/man/man1/proclab.1 share/man/man1/time_slicing.1)
endif()
foreach(path IN LISTS expected)
  if(NOT EXISTS "${PREFIX}/${path}")
    message(FATAL_ERROR "not installed: ${PREFIX}/${path}")
  endif()
endforeach()
execute_process(COMMAND "${PREFIX}/bin/proclab" run --quick --json "${WORK_DIR}/suite.json"
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed proclab run --quick exited ${rc}:\n${out}\n${err}")
endif()
foreach(claim P1 P2 P3 P4 T1 T2 T3 T4 T5 T6 T7 T8 T9)
  if(NOT out MATCHES "  ${claim}  ")
    message(FATAL_ERROR "claim ${claim} missing from the installed run's table:\n${out}")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}" "${WORK_DIR}")
