// Recognition of the first bytes of an HTTP/1.x message, used to find a point in a captured byte
// stream where parsing can start.
#pragma once

#include <string_view>

namespace jamjet::http {

// Side of a connection that a byte stream carries: the requests a client writes or the
// responses it reads.
enum class Direction { kRequest, kResponse };

enum class MessageStart {
  kMatch,         // the bytes begin with a request line or status line prefix
  kPrefix,        // the bytes could still become a message start when more arrive
  kNoMatch,       // the bytes cannot begin a message
  kHttp2Preface,  // the bytes begin with the HTTP/2 connection preface "PRI * HTTP/2.0"
};

// Classifies the start of `data`. A request start is a method token of uppercase letters, '-'
// or '_', a space, a request target without spaces or control characters, and " HTTP/1.". A
// response start is "HTTP/1.0 " or "HTTP/1.1 ". The caller bounds how long a kPrefix may grow.
MessageStart MatchMessageStart(Direction direction, std::string_view data);

}  // namespace jamjet::http
