// Sources of trace and span ids.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace jamjet::genai {

// Creates trace and span ids as lowercase hex. Tests inject fixed ids through it.
class IdSource {
 public:
  virtual ~IdSource() = default;

  // Returns 16 random bytes as 32 lowercase hex digits, never all zero.
  virtual std::string NewTraceId() = 0;
  // Returns 8 random bytes as 16 lowercase hex digits, never all zero.
  virtual std::string NewSpanId() = 0;
};

// Draws ids from a 64-bit Mersenne Twister seeded from std::random_device. Not thread-safe, so
// each thread that builds spans needs its own instance.
class RandomIdSource final : public IdSource {
 public:
  RandomIdSource();

  std::string NewTraceId() override;
  std::string NewSpanId() override;

 private:
  uint64_t NextNonZero();

  std::mt19937_64 engine_;
};

}  // namespace jamjet::genai
