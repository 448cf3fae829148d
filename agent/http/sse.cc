#include "agent/http/sse.h"

namespace jamjet::http {
namespace {

// Splits off one line ending in CRLF, LF or CR. Returns false when no complete line is left.
bool NextLine(std::string_view& input, std::string_view& line) {
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] != '\n' && input[i] != '\r') continue;
    line = input.substr(0, i);
    size_t end = i + 1;
    if (input[i] == '\r' && end < input.size() && input[end] == '\n') ++end;
    input.remove_prefix(end);
    return true;
  }
  return false;
}

}  // namespace

std::vector<SseEvent> ParseSse(std::string_view body) {
  std::vector<SseEvent> events;
  SseEvent pending;
  bool has_data = false;
  std::string last_id;
  // A UTF-8 byte order mark may open the stream and is not part of the first field.
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);

  std::string_view line;
  while (NextLine(body, line)) {
    if (line.empty()) {
      if (has_data) {
        if (pending.event.empty()) pending.event = "message";
        pending.id = last_id;
        events.push_back(std::move(pending));
      }
      pending = SseEvent{};
      has_data = false;
      continue;
    }
    if (line.front() == ':') continue;  // comment

    std::string_view field = line;
    std::string_view value;
    if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (has_data) pending.data.push_back('\n');
      pending.data.append(value);
      has_data = true;
    } else if (field == "event") {
      pending.event.assign(value);
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_id.assign(value);
    }
    // "retry" and unknown fields do not affect the events.
  }
  return events;
}

}  // namespace jamjet::http
