// Shared by the fuzz targets (fuzz/*_fuzz.cpp): a broken property is a crash,
// so libFuzzer keeps the input and the replay test fails on it.
#pragma once

#include <cstdio>

// Prints the property and where, then traps (SIGILL): works without any
// sanitizer, as in the replay build.
#define RCW_FUZZ_CHECK(cond)                                                              \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "fuzz property violated: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                   \
    }                                                                                     \
  } while (0)
