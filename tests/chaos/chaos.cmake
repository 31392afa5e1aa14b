# The operators' chaos test (tests/chaos/chaos.py): rc-watchdog against the API simulator for
# a simulated day at 1800x per seed, through random reloads (exemptions, report, dry run,
# iTwins, policies, lookback) on an API with faults, 429 bursts, upper-case ids, duplicates
# and jobs moving between pages. Every DELETE must be justified by a config that may have
# been in force, on data no older than one poll interval. Label "chaos"; included from the
# tests block of CMakeLists.txt. scripts/chaos.sh runs the long form (many seeds).
add_test(NAME "chaos: short"
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/chaos/chaos.py --seeds 1,2,3
         WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
# COST: started early, like the soak, so that its ~2.5 minutes overlap the other tests.
set_tests_properties("chaos: short" PROPERTIES LABELS chaos TIMEOUT 600 COST 900
  ENVIRONMENT "RCW_BINARY=$<TARGET_FILE:rc-watchdog>;RCW_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
# The checker's own tests (no daemon, well under a second).
add_test(NAME "chaos: checker"
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/chaos/test_checker.py)
set_tests_properties("chaos: checker" PROPERTIES LABELS chaos TIMEOUT 60)
