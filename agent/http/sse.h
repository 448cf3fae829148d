// Server-sent events (text/event-stream) as defined by the WHATWG HTML standard, section 9.2.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jamjet::http {

struct SseEvent {
  std::string event;  // "message" when the stream gave no event name
  std::string data;   // data lines joined with "\n"
  std::string id;
};

// Parses a text/event-stream body. An event is dispatched at the blank line that ends it, so a
// last event cut off before its blank line is not returned.
std::vector<SseEvent> ParseSse(std::string_view body);

}  // namespace jamjet::http
