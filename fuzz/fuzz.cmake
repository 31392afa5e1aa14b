# Fuzz targets: fuzz/<name>_fuzz.cpp, each defining LLVMFuzzerTestOneInput.
# Inputs (seed corpus and regression inputs): tests/data/fuzz/<name>/.
# See fuzz/README.md.
#
# Always: rcw_fuzz_<name>_replay (the target with fuzz/replay_main.cpp), and
# with RCW_BUILD_TESTS the ctest "fuzz: replay <name>" (label fuzz) running it
# over tests/data/fuzz/<name>/, so every regression input runs in every build,
# the sanitizer builds included.
#
# RCW_FUZZ=ON (clang only) also builds rcw_fuzz_<name>, linked with libFuzzer
# (-fsanitize=fuzzer,address,undefined); scripts/fuzz.sh runs them. This file
# is included after the rcw_* libraries are defined, so instead of global
# compile options it adds the sanitizer and coverage flags to every target
# defined so far (each library is then built instrumented; the executables
# link the sanitizer runtimes). -Werror stays: clang 14 builds the libraries
# warning-free.
option(RCW_FUZZ "Build the libFuzzer targets (clang only; see fuzz/README.md)" OFF)

# name -> libraries it needs.
set(rcw_fuzz_job_page_libs rcw_json)
set(rcw_fuzz_job_envelope_libs rcw_json)
set(rcw_fuzz_error_body_libs rcw_json)
set(rcw_fuzz_token_response_libs rcw_json)
set(rcw_fuzz_state_libs rcw_state rcw_json)
set(rcw_fuzz_config_libs rcw_config)
set(rcw_fuzz_duration_libs rcw_base)
set(rcw_fuzz_timestamp_libs rcw_json rcw_base)
file(GLOB rcw_fuzz_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/fuzz/*_fuzz.cpp)
set(rcw_fuzz_names)
foreach(src ${rcw_fuzz_sources})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "_fuzz$" "" name ${name})
  if(NOT DEFINED rcw_fuzz_${name}_libs)
    message(FATAL_ERROR "fuzz/fuzz.cmake: set rcw_fuzz_${name}_libs for ${src}")
  endif()
  list(APPEND rcw_fuzz_names ${name})
endforeach()

if(RCW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RCW_FUZZ=ON needs clang (libFuzzer): "
                        "CC=clang CXX=clang++ cmake -DRCW_FUZZ=ON ... (or scripts/fuzz.sh)")
  endif()
  set(rcw_fuzz_sanitize -fsanitize=address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
  get_property(rcw_fuzz_existing DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${rcw_fuzz_existing})
    get_target_property(t_type ${t} TYPE)
    if(t_type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
      target_compile_options(${t} PRIVATE ${rcw_fuzz_sanitize} -fsanitize=fuzzer-no-link)
    endif()
    if(t_type STREQUAL "EXECUTABLE")
      target_link_options(${t} PRIVATE -fsanitize=address,undefined)
    endif()
  endforeach()
endif()

foreach(name ${rcw_fuzz_names})
  set(src ${CMAKE_SOURCE_DIR}/fuzz/${name}_fuzz.cpp)
  set(inputs ${CMAKE_SOURCE_DIR}/tests/data/fuzz/${name})

  add_executable(rcw_fuzz_${name}_replay ${src} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.cpp)
  target_compile_options(rcw_fuzz_${name}_replay PRIVATE ${RCW_WARNINGS})
  target_link_libraries(rcw_fuzz_${name}_replay PRIVATE ${rcw_fuzz_${name}_libs})
  if(RCW_FUZZ)
    target_compile_options(rcw_fuzz_${name}_replay PRIVATE ${rcw_fuzz_sanitize}
                           -fsanitize=fuzzer-no-link)
    target_link_options(rcw_fuzz_${name}_replay PRIVATE -fsanitize=address,undefined)

    add_executable(rcw_fuzz_${name} ${src})
    target_compile_options(rcw_fuzz_${name} PRIVATE ${RCW_WARNINGS} ${rcw_fuzz_sanitize}
                           -fsanitize=fuzzer)
    target_link_options(rcw_fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(rcw_fuzz_${name} PRIVATE ${rcw_fuzz_${name}_libs})
    set_target_properties(rcw_fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                          ${CMAKE_BINARY_DIR}/fuzz)
  endif()

  if(RCW_BUILD_TESTS)
    add_test(NAME "fuzz: replay ${name}" COMMAND rcw_fuzz_${name}_replay ${inputs})
    set_tests_properties("fuzz: replay ${name}" PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
endforeach()
