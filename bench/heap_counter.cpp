// Counting global operator new/delete (see heap_counter.h). Relaxed atomics:
// the benchmarks run on one thread.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bench/heap_counter.h"

namespace {

std::atomic<std::int64_t> g_heap{0};
std::atomic<std::int64_t> g_peak{0};

void* Counted(void* p) {
  if (p == nullptr) return p;
  std::int64_t now = g_heap.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p)),
                                      std::memory_order_relaxed) +
                     static_cast<std::int64_t>(malloc_usable_size(p));
  if (now > g_peak.load(std::memory_order_relaxed)) g_peak.store(now, std::memory_order_relaxed);
  return p;
}
void Uncount(void* p) {
  if (p == nullptr) return;
  g_heap.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void* Allocate(std::size_t n) {
  void* p = Counted(std::malloc(n == 0 ? 1 : n));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* AllocateAligned(std::size_t n, std::align_val_t a) {
  std::size_t align = static_cast<std::size_t>(a);
  void* p = Counted(std::aligned_alloc(align, (n + align - 1) / align * align));
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return Allocate(n); }
void* operator new[](std::size_t n) { return Allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return Counted(std::malloc(n == 0 ? 1 : n));
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return Counted(std::malloc(n == 0 ? 1 : n));
}
void* operator new(std::size_t n, std::align_val_t a) { return AllocateAligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return AllocateAligned(n, a); }
void operator delete(void* p) noexcept { Uncount(p); }
void operator delete[](void* p) noexcept { Uncount(p); }
void operator delete(void* p, std::size_t) noexcept { Uncount(p); }
void operator delete[](void* p, std::size_t) noexcept { Uncount(p); }
void operator delete(void* p, std::align_val_t) noexcept { Uncount(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Uncount(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { Uncount(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { Uncount(p); }

namespace rcw::bench {

bool HeapCounting() { return true; }
std::int64_t HeapInUse() { return g_heap.load(std::memory_order_relaxed); }
std::int64_t HeapPeak() { return g_peak.load(std::memory_order_relaxed); }
void ResetHeapPeak() { g_peak.store(HeapInUse(), std::memory_order_relaxed); }

}  // namespace rcw::bench
