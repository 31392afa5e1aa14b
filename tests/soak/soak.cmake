# The soak test (tests/soak/soak.py): rc-watchdog against the API simulator for a
# simulated day at 600x with random faults, 429 storms and kill -9 + restart, then
# invariants checked against the simulator's records. Label "soak"; included from the
# tests block of CMakeLists.txt. scripts/soak.sh runs the long version (a simulated week).
add_test(NAME "soak: short"
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/soak/soak.py
                 --days 1 --jobs 1200 --itwins 20 --restarts 4
         WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
# COST: ctest starts the longest test first, so that on a clean build (no timing
# history yet) its 2.5 minutes overlap the other tests instead of trailing them.
set_tests_properties("soak: short" PROPERTIES LABELS soak TIMEOUT 600 COST 1000
  ENVIRONMENT "RCW_BINARY=$<TARGET_FILE:rc-watchdog>;RCW_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
