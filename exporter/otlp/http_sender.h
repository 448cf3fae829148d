// One OTLP/HTTP POST at a time over a reused libcurl handle (keep-alive).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "exporter/otlp/config.h"

namespace jamjet::otlp {

enum class TransportError {
  kNone,       // an HTTP response arrived; see status
  kRetryable,  // connect, DNS, TLS, timeout or a connection cut mid-request
  kAborted,    // Abort() was called
  kPermanent,  // an error that a retry cannot fix, such as an invalid URL
};

struct HttpResponse {
  long status = 0;  // 0 when no response arrived
  TransportError transport = TransportError::kNone;
  std::string error;  // libcurl's description of a transport error
  std::string body;   // at most max_response_bytes of the response body
  std::optional<std::string> retry_after;
};

class HttpSender {
 public:
  // Fails when libcurl cannot be set up. The API key is taken from `config.api_key`.
  static absl::StatusOr<std::unique_ptr<HttpSender>> Create(const OtlpConfig& config);
  ~HttpSender();
  HttpSender(const HttpSender&) = delete;
  HttpSender& operator=(const HttpSender&) = delete;

  // Sends `body` (already gzip-compressed when config.gzip is set). `timeout` limits the
  // whole request; it is clipped to the configured request timeout.
  HttpResponse Post(const std::string& body, std::chrono::milliseconds timeout);

  // Makes a running Post and every later one return kAborted promptly. Thread-safe.
  void Abort() { aborted_.store(true); }

 private:
  HttpSender(const OtlpConfig& config, CURL* curl, curl_slist* headers);
  static size_t OnBody(char* data, size_t size, size_t count, void* self);
  static size_t OnHeader(char* data, size_t size, size_t count, void* self);
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t);

  OtlpConfig config_;
  CURL* curl_;
  curl_slist* headers_;
  std::atomic<bool> aborted_{false};
  HttpResponse* current_ = nullptr;  // the response being filled by the callbacks
};

}  // namespace jamjet::otlp
