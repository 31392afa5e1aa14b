#include "enforce/backoff.h"

#include <algorithm>

namespace rcw {
namespace {

Millis Ceiling(const RetryConfig& retry, int attempt) {
  Millis cap = retry.initial;
  for (int i = 1; i < attempt && cap < retry.max; ++i) cap *= 2;
  return std::min(cap, retry.max);
}

}  // namespace

Millis BackoffDelay(const RetryConfig& retry, int attempt, std::mt19937_64& rng) {
  Millis cap = Ceiling(retry, std::max(attempt, 1));
  std::uniform_int_distribution<long long> dist(0, cap.count());
  return Millis{dist(rng)};
}

Millis BackoffBound(const RetryConfig& retry) {
  Millis total{0};
  for (int a = 1; a < retry.max_attempts; ++a) total += Ceiling(retry, a);
  return total;
}

}  // namespace rcw
