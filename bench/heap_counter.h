// Heap accounting for the memory benchmarks. heap_counter.cpp replaces the
// global operator new/delete with counting ones and is linked only into
// rcw_bench_memory; the other binaries get heap_counter_off.cpp, whose
// functions report nothing, so their timings carry no accounting cost.
#pragma once

#include <cstdint>

namespace rcw::bench {

// False when this binary does not count (heap_counter_off.cpp).
bool HeapCounting();
// Bytes in use now (malloc_usable_size of every live operator new block).
std::int64_t HeapInUse();
// The highest HeapInUse() since the last ResetHeapPeak().
std::int64_t HeapPeak();
void ResetHeapPeak();

}  // namespace rcw::bench
