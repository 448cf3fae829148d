// Collection of one message's body bytes within a size cap, and their content decoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/http/message.h"

namespace jamjet::http {

class BodyBuffer {
 public:
  // Bodies without a content-coding keep at most max_body_bytes. Encoded bodies buffer at most
  // max_body_bytes of encoded bytes, and their decoded output is capped at max_body_bytes too.
  explicit BodyBuffer(size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  // Discards collected bytes and starts a body coded as `content_encoding` (the header value,
  // empty when the header is absent).
  void Reset(std::string_view content_encoding);

  // Adds bytes of the body after transfer decoding. Bytes beyond the cap are dropped.
  void Append(std::string_view bytes);
  // Counts `count` body bytes that were never captured: the body is cut where they start.
  void SkipUncaptured(size_t count);

  // Sets message.body, body_truncated and decode_error from the collected bytes, then resets.
  // `complete` is whether the whole body arrived. A compressed stream that ends early is a
  // decode error in a complete message but expected in a partial one.
  void Finish(bool complete, Message& message);

 private:
  size_t max_body_bytes_;
  std::string content_encoding_;
  bool identity_ = true;
  std::string bytes_;
  bool truncated_ = false;  // bytes were dropped at the cap or never captured
  bool cut_ = false;        // uncaptured bytes arrived: nothing after them is stored
};

}  // namespace jamjet::http
