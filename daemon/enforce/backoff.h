// Exponential backoff with full jitter (AWS architecture blog, "Exponential
// Backoff And Jitter"): attempt n waits uniform(0, min(max, initial * 2^(n-1))).
#pragma once

#include <random>

#include "base/clock.h"
#include "config/config.h"

namespace rcw {

// REQUIRES: attempt >= 1 (the number of the attempt that just failed).
Millis BackoffDelay(const RetryConfig& retry, int attempt, std::mt19937_64& rng);

// The longest total time max_attempts attempts can wait: the bound `run
// --once` uses for waiting on its cancellations.
Millis BackoffBound(const RetryConfig& retry);

}  // namespace rcw
