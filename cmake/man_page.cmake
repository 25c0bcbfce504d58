# cmake -DHELP2MAN=... -DEXE=... -DOUT=... -DVERSION=... -DDEMOS=a;b -P man_page.cmake
#
# One man page from EXE --help. NAME: the help's first line after "name — " (a demo's title, the
# runner's purpose). A program whose help lists "Subcommands:" (the runner) gets each one's --help
# as its own subsection, kept as printed; every page gets a SEE ALSO (the runner and the demos
# point at each other).
execute_process(COMMAND ${EXE} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --help exited ${rc}")
endif()
string(REGEX MATCH "^[^\n]*" first_line "${help}")
string(FIND "${first_line}" " — " dash)
if(dash EQUAL -1)
  set(name_line "${first_line}")
else()
  math(EXPR start "${dash} + 5")  # " — " is 5 bytes in UTF-8
  string(SUBSTRING "${first_line}" ${start} -1 name_line)
endif()
get_filename_component(program ${EXE} NAME)

# The subcommands, as the help lists them: "  name   what it does" under "Subcommands:" (a long
# name's description wraps onto a deeper-indented line, which does not match).
set(subcommands "")
string(FIND "${help}" "Subcommands:\n" at)
if(NOT at EQUAL -1)
  string(SUBSTRING "${help}" ${at} -1 section)
  string(FIND "${section}" "\n\n" end)
  if(NOT end EQUAL -1)
    string(SUBSTRING "${section}" 0 ${end} section)
  endif()
  string(REGEX MATCHALL "\n  [a-z][a-z_-]*" names "${section}")
  foreach(name IN LISTS names)
    string(STRIP "${name}" name)
    list(APPEND subcommands ${name})
  endforeach()
endif()

# roff: a backslash is \e; a line that starts with '.' or ' would be read as a request.
function(roff_escape var text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${var} "${text}" PARENT_SCOPE)
endfunction()

set(include_text "")
if(subcommands)
  string(APPEND include_text "[SUBCOMMANDS]\n")
  foreach(sub IN LISTS subcommands)
    execute_process(COMMAND ${EXE} ${sub} --help OUTPUT_VARIABLE sub_help RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${EXE} ${sub} --help exited ${rc}")
    endif()
    roff_escape(sub_help "${sub_help}")
    string(APPEND include_text ".SS ${sub}\n.nf\n${sub_help}.fi\n")
  endforeach()
endif()
string(APPEND include_text "[SEE ALSO]\n")
if(program STREQUAL "proclab")
  set(refs "")
  foreach(demo IN LISTS DEMOS)
    list(APPEND refs "\\fB${demo}\\fR(1)")
  endforeach()
  list(JOIN refs ", " refs)
  string(APPEND include_text "The demos it runs: ${refs}.\n.PP\n"
         "The documentation (README.md, docs/) is installed in the package's doc folder, "
         "/usr/share/doc/proclab for the Debian package.\n")
else()
  string(APPEND include_text "\\fBproclab\\fR(1), which runs every demo and finds this one in libexec/proclab "
         "(or PROCLAB_DEMO_DIR). The demo's own page, with its method, verdict rules and caveats: "
         "demos/${program}.md in the documentation folder (/usr/share/doc/proclab for the Debian package).\n")
endif()
set(include_file ${OUT}.include)
file(WRITE ${include_file} "${include_text}")

# The name is one quoted argument: a title may hold a ';', which would split a CMake list.
execute_process(COMMAND ${HELP2MAN} --locale=C.UTF-8 --no-info --no-discard-stderr --version-string=${VERSION} "--name=${name_line}"
                        --include=${include_file} --output=${OUT} ${EXE}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "help2man ${EXE}: ${err}")
endif()
