#include "agent/http/body_buffer.h"

#include <algorithm>
#include <utility>

#include "absl/status/statusor.h"
#include "agent/http/content_decoding.h"

namespace jamjet::http {

void BodyBuffer::Reset(std::string_view content_encoding) {
  content_encoding_.assign(content_encoding);
  identity_ = IsIdentityEncoding(content_encoding);
  bytes_.clear();
  bytes_.shrink_to_fit();
  truncated_ = false;
  cut_ = false;
}

void BodyBuffer::SkipUncaptured(size_t count) {
  if (count == 0) return;
  cut_ = true;
  truncated_ = true;
}

void BodyBuffer::Append(std::string_view bytes) {
  if (cut_) {
    truncated_ = true;
    return;
  }
  size_t room = max_body_bytes_ - std::min(max_body_bytes_, bytes_.size());
  bytes_.append(bytes.substr(0, room));
  if (bytes.size() > room) truncated_ = true;
}

void BodyBuffer::Finish(bool complete, Message& message) {
  message.body.clear();
  message.body_truncated = truncated_;
  message.decode_error.clear();
  if (identity_ || bytes_.empty()) {
    message.body = std::move(bytes_);
  } else {
    absl::StatusOr<DecodedContent> decoded =
        DecodeContent(content_encoding_, bytes_, max_body_bytes_);
    if (!decoded.ok()) {
      message.decode_error = std::string(decoded.status().message());
    } else if (decoded->input_ended_early && complete && !truncated_) {
      message.decode_error =
          "encoded body ended inside the compressed stream (Content-Encoding \"" +
          content_encoding_ + "\")";
    } else {
      message.body = std::move(decoded->data);
      message.body_truncated = truncated_ || decoded->truncated;
    }
  }
  Reset("");
}

}  // namespace jamjet::http
