# vmscan_source_dir(TARGET): TARGET's sources see the checkout's path as VMSCAN_SOURCE_DIR.
function(vmscan_source_dir target)
  target_compile_definitions(${target} PRIVATE VMSCAN_SOURCE_DIR="${VMSCAN_SOURCE_DIR}")
endfunction()

# vmscan_test(NAME SOURCES... LIBS ...): one GoogleTest binary, registered with ctest as one test.
# Tests get the source tree through VMSCAN_SOURCE_DIR and run with the build dir as cwd.
function(vmscan_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  vmscan_source_dir(${name})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
