# Micro benchmarks (Google Benchmark, Debian libbenchmark-dev). Included from
# the top-level CMakeLists.txt; skipped when the library is missing. See
# bench/README.md; scripts/bench.sh runs them and writes bench/RESULTS.md.
find_package(benchmark CONFIG QUIET)
if(NOT benchmark_FOUND)
  message(STATUS "benchmarks: Google Benchmark not found (libbenchmark-dev); bench/ skipped")
  return()
endif()

# Deterministic inputs shared by the benchmarks (list pages, configs).
add_library(rcw_bench_data STATIC ${CMAKE_SOURCE_DIR}/bench/bench_data.cpp)
target_include_directories(rcw_bench_data PUBLIC ${CMAKE_SOURCE_DIR} ${CMAKE_SOURCE_DIR}/tests)
target_compile_options(rcw_bench_data PRIVATE ${RCW_WARNINGS})
target_link_libraries(rcw_bench_data PUBLIC rcw_json rcw_config rcw_base)

# rcw_bench(NAME SOURCE LIBS...): bench/SOURCE_bench.cpp -> rcw_bench_NAME,
# LIBS: rcw_bench_heap_counter (counting operator new) or rcw_bench_heap_off.
add_library(rcw_bench_heap_off OBJECT ${CMAKE_SOURCE_DIR}/bench/heap_counter_off.cpp)
add_library(rcw_bench_heap_counter OBJECT ${CMAKE_SOURCE_DIR}/bench/heap_counter.cpp)
foreach(t rcw_bench_heap_off rcw_bench_heap_counter)
  target_include_directories(${t} PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_options(${t} PRIVATE ${RCW_WARNINGS})
endforeach()
function(rcw_bench name source)
  add_executable(rcw_bench_${name} ${CMAKE_SOURCE_DIR}/bench/${source}_bench.cpp)
  target_compile_options(rcw_bench_${name} PRIVATE ${RCW_WARNINGS})
  target_link_libraries(rcw_bench_${name} PRIVATE rcw_bench_data benchmark::benchmark ${ARGN})
endfunction()

# decode_bench.cpp parses with simdjson directly (the comparison); linking
# simdjson::simdjson also gives it the library's SIMDJSON_THREADS_ENABLED=1.
rcw_bench(decode decode rcw_json simdjson::simdjson)
rcw_bench(policy policy rcw_policy rcw_budget)
rcw_bench(cycle cycle rcw_bench_heap_off rcw_service rcw_enforce)
# The same cycle benchmarks with a counting operator new: memory counters.
rcw_bench(memory cycle rcw_bench_heap_counter rcw_service rcw_enforce)

if(RCW_BUILD_TESTS)
  # Each binary runs once with a tiny --benchmark_min_time; fails when one
  # exits non-zero, a benchmark is missing, reports an error or has no
  # positive items_per_second.
  add_test(NAME "bench: smoke"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/bench/smoke_check.py
                   --decode $<TARGET_FILE:rcw_bench_decode>
                   --policy $<TARGET_FILE:rcw_bench_policy>
                   --cycle $<TARGET_FILE:rcw_bench_cycle>
                   --memory $<TARGET_FILE:rcw_bench_memory>)
  set_tests_properties("bench: smoke" PROPERTIES LABELS bench TIMEOUT 120)
  # Issue 11's benchmark in its quick form (10,000 jobs, one repetition, 3 steady polls;
  # about 15 s): the harness runs end to end on this build, against the simulator and the
  # cron peer. It fails on a harness error, never on a missed target (those are for the
  # Release build at 100,000 jobs: scripts/bench.sh).
  add_test(NAME "bench: issue11 quick"
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/bench/issue11_bench.py --quick
                   --no-diagnose --binary $<TARGET_FILE:rc-watchdog>
                   --out ${CMAKE_CURRENT_BINARY_DIR}/issue11-quick.json)
  set_tests_properties("bench: issue11 quick" PROPERTIES LABELS bench TIMEOUT 120)
endif()
