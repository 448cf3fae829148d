#include "agent/genai/id_source.h"

namespace jamjet::genai {
namespace {

void AppendHex(uint64_t value, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(value >> shift) & 0xf]);
}

}  // namespace

RandomIdSource::RandomIdSource() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(),
                     device(), device(), device(), device()};
  engine_.seed(seed);
}

uint64_t RandomIdSource::NextNonZero() {
  uint64_t value = 0;
  while (value == 0) value = engine_();
  return value;
}

std::string RandomIdSource::NewTraceId() {
  // Both halves are non-zero, so the whole id is too.
  std::string id;
  id.reserve(32);
  AppendHex(NextNonZero(), id);
  AppendHex(NextNonZero(), id);
  return id;
}

std::string RandomIdSource::NewSpanId() {
  std::string id;
  id.reserve(16);
  AppendHex(NextNonZero(), id);
  return id;
}

}  // namespace jamjet::genai
