#include "agent/http/message_start.h"

#include <algorithm>
#include <cstddef>

namespace jamjet::http {
namespace {

// Longer than any registered method name, so it bounds how long a run of capitals stays kPrefix.
constexpr size_t kMaxMethodLength = 24;
constexpr std::string_view kHttp2Preface = "PRI * HTTP/2.0";

bool IsMethodChar(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }

// Visible ASCII and bytes of UTF-8 sequences. http-parser decides whether the target is valid,
// and this check only separates request lines from other bytes.
bool IsTargetChar(char c) {
  auto byte = static_cast<unsigned char>(c);
  return (byte > 0x20 && byte < 0x7f) || byte >= 0x80;
}

// Compares `data` with `literal` over their common length.
MessageStart MatchLiteral(std::string_view data, std::string_view literal) {
  size_t common = std::min(data.size(), literal.size());
  if (data.substr(0, common) != literal.substr(0, common)) return MessageStart::kNoMatch;
  return data.size() >= literal.size() ? MessageStart::kMatch : MessageStart::kPrefix;
}

MessageStart MatchRequestStart(std::string_view data) {
  switch (MatchLiteral(data, kHttp2Preface)) {
    case MessageStart::kMatch:
      return MessageStart::kHttp2Preface;
    case MessageStart::kPrefix:
      return MessageStart::kPrefix;
    default:
      break;
  }
  size_t method_end = 0;
  while (method_end < data.size() && IsMethodChar(data[method_end])) ++method_end;
  if (method_end > kMaxMethodLength) return MessageStart::kNoMatch;
  if (method_end == data.size()) return MessageStart::kPrefix;
  if (method_end == 0 || data[method_end] != ' ') return MessageStart::kNoMatch;

  size_t target_begin = method_end + 1;
  size_t target_end = target_begin;
  while (target_end < data.size() && IsTargetChar(data[target_end])) ++target_end;
  if (target_end == data.size()) return MessageStart::kPrefix;
  if (target_end == target_begin) return MessageStart::kNoMatch;
  return MatchLiteral(data.substr(target_end), " HTTP/1.");
}

MessageStart MatchResponseStart(std::string_view data) {
  MessageStart version = MatchLiteral(data, "HTTP/1.");
  if (version != MessageStart::kMatch) return version;
  if (data.size() == 7) return MessageStart::kPrefix;
  if (data[7] != '0' && data[7] != '1') return MessageStart::kNoMatch;
  if (data.size() == 8) return MessageStart::kPrefix;
  return data[8] == ' ' ? MessageStart::kMatch : MessageStart::kNoMatch;
}

}  // namespace

MessageStart MatchMessageStart(Direction direction, std::string_view data) {
  if (data.empty()) return MessageStart::kPrefix;
  return direction == Direction::kRequest ? MatchRequestStart(data) : MatchResponseStart(data);
}

}  // namespace jamjet::http
