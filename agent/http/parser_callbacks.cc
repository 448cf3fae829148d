// MessageParser's handling of http-parser callbacks: building the Message under way.
#include <http_parser.h>

#include "agent/http/parser.h"

namespace jamjet::http {
namespace {

// ": " and CRLF around each field, counted so that many tiny fields also reach the header limit.
constexpr size_t kFieldOverheadBytes = 4;

void StripTrailingWhitespace(std::string& value) {
  size_t end = value.find_last_not_of(" \t");
  value.erase(end == std::string::npos ? 0 : end + 1);
}

}  // namespace

void MessageParser::BeginMessage() {
  current_ = Message{};
  current_.first_byte_ns = feed_ns_;
  current_.last_byte_ns = feed_ns_;
  in_message_ = true;
  header_bytes_ = 0;
  header_value_last_ = false;
  body_.Reset("");
}

bool MessageParser::AddHeaderBytes(size_t size) {
  header_bytes_ += size;
  return header_bytes_ <= limits_.max_header_bytes;
}

bool MessageParser::OnUrl(std::string_view bytes) {
  if (!AddHeaderBytes(bytes.size())) return false;
  if (current_.method.empty()) {
    current_.method = http_method_str(static_cast<http_method>(parser_->method));
  }
  current_.target.append(bytes);
  return true;
}

bool MessageParser::OnStatus(std::string_view bytes) {
  current_.status_code = static_cast<int>(parser_->status_code);
  return AddHeaderBytes(bytes.size());
}

bool MessageParser::OnHeaderField(std::string_view bytes) {
  // http-parser may deliver one name in several calls when it spans Feeds, so a new header
  // begins only after a value.
  bool new_header = header_value_last_ || current_.headers.empty();
  if (!AddHeaderBytes(bytes.size() + (new_header ? kFieldOverheadBytes : 0))) return false;
  if (new_header) current_.headers.emplace_back();
  current_.headers.back().name.append(bytes);
  header_value_last_ = false;
  return true;
}

bool MessageParser::OnHeaderValue(std::string_view bytes) {
  if (!AddHeaderBytes(bytes.size())) return false;
  if (current_.headers.empty()) current_.headers.emplace_back();
  current_.headers.back().value.append(bytes);
  header_value_last_ = true;
  return true;
}

// Returns 0 to parse a body as the headers describe, 1 for a response without a body (HEAD) and
// 2 for a response after which the connection carries another protocol (CONNECT).
int MessageParser::OnHeadersComplete() {
  for (Header& header : current_.headers) StripTrailingWhitespace(header.value);
  // NOTE: http-parser removes only the chunked transfer coding, so a body sent with
  // "Transfer-Encoding: gzip, chunked" is stored still gzip-compressed.
  body_.Reset(FindHeader(current_.headers, "Content-Encoding").value_or(""));
  if (direction_ == Direction::kRequest) {
    current_.method = http_method_str(static_cast<http_method>(parser_->method));
    return 0;
  }

  int status = static_cast<int>(parser_->status_code);
  current_.status_code = status;
  if (status == 101) {
    switch_after_message_ = true;
    return 0;
  }
  // An interim response comes before the final response to the same request.
  if (status / 100 == 1) return 0;

  RequestKind kind = RequestKind::kOther;
  if (!request_kinds_.empty()) {
    kind = request_kinds_.front();
    request_kinds_.pop_front();
  }
  if (kind == RequestKind::kHead) return 1;
  if (kind == RequestKind::kConnect && status / 100 == 2) {
    switch_after_message_ = true;
    return 2;
  }
  return 0;
}

void MessageParser::OnBody(std::string_view bytes) {
  if (bytes.empty()) return;
  if (current_.first_body_byte_ns == 0) current_.first_body_byte_ns = feed_ns_;
  if (feeding_uncaptured_) {
    body_.SkipUncaptured(bytes.size());
    return;
  }
  body_.Append(bytes);
}

void MessageParser::OnMessageComplete() {
  // Pausing makes http_parser_execute return at the end of this message, so that Parse can
  // append it and start the next one with a fresh parser.
  message_done_ = true;
  http_parser_pause(parser_.get(), 1);
}

}  // namespace jamjet::http
