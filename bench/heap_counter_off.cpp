#include "bench/heap_counter.h"

namespace rcw::bench {

bool HeapCounting() { return false; }
std::int64_t HeapInUse() { return 0; }
std::int64_t HeapPeak() { return 0; }
void ResetHeapPeak() {}

}  // namespace rcw::bench
