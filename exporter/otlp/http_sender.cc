#include "exporter/otlp/http_sender.h"

#include <strings.h>

#include <algorithm>
#include <mutex>

#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {
namespace {

TransportError Classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransportError::kNone;
    case CURLE_ABORTED_BY_CALLBACK:
      return TransportError::kAborted;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_SSL_CACERT_BADFILE:
      return TransportError::kPermanent;
    default:
      // Connect, DNS, TLS handshake and verification, timeouts, resets and empty replies.
      return TransportError::kRetryable;
  }
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpSender>> HttpSender::Create(const OtlpConfig& config) {
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/x-protobuf");
  // Without this header libcurl waits up to 1 s for "100 Continue" before large bodies.
  headers = curl_slist_append(headers, "Expect:");
  if (config.gzip) headers = curl_slist_append(headers, "Content-Encoding: gzip");
  if (!config.api_key.empty()) {
    std::string authorization = "Authorization: Bearer " + config.api_key;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  return std::unique_ptr<HttpSender>(new HttpSender(config, curl, headers));
}

HttpSender::HttpSender(const OtlpConfig& config, CURL* curl, curl_slist* headers)
    : config_(config), curl_(curl), headers_(headers) {
  config_.api_key.clear();  // kept only in headers_, so that it cannot be logged by accident
  curl_easy_setopt(curl_, CURLOPT_URL, config_.endpoint.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(curl_, CURLOPT_USERAGENT, "jamjet-agent/" JAMJET_VERSION);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_ms));
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpSender::OnBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &HttpSender::OnHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, &HttpSender::OnProgress);
  curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, this);
  curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  if (!config_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, config_.ca_file.c_str());
}

HttpSender::~HttpSender() {
  curl_easy_cleanup(curl_);
  curl_slist_free_all(headers_);
}

HttpResponse HttpSender::Post(const std::string& body, std::chrono::milliseconds timeout) {
  HttpResponse response;
  if (aborted_.load()) {
    response.transport = TransportError::kAborted;
    return response;
  }
  long timeout_ms =
      static_cast<long>(std::clamp<int64_t>(timeout.count(), 1, config_.request_timeout_ms));
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  current_ = &response;
  CURLcode code = curl_easy_perform(curl_);
  current_ = nullptr;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &response.status);
  // A body longer than the cap ends the transfer with a write error after the status arrived.
  bool body_capped = code == CURLE_WRITE_ERROR && response.status != 0;
  if (code != CURLE_OK && !body_capped) {
    response.transport = Classify(code);
    response.error = curl_easy_strerror(code);
    response.status = 0;
  }
  return response;
}

size_t HttpSender::OnBody(char* data, size_t size, size_t count, void* self) {
  auto* sender = static_cast<HttpSender*>(self);
  size_t bytes = size * count;
  std::string& body = sender->current_->body;
  if (body.size() + bytes > static_cast<size_t>(sender->config_.max_response_bytes)) return 0;
  body.append(data, bytes);
  return bytes;
}

size_t HttpSender::OnHeader(char* data, size_t size, size_t count, void* self) {
  auto* sender = static_cast<HttpSender*>(self);
  size_t bytes = size * count;
  constexpr std::string_view kName = "retry-after:";
  if (bytes > kName.size() && strncasecmp(data, kName.data(), kName.size()) == 0) {
    sender->current_->retry_after = std::string(data + kName.size(), bytes - kName.size());
  }
  return bytes;
}

int HttpSender::OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<HttpSender*>(self)->aborted_.load() ? 1 : 0;
}

}  // namespace jamjet::otlp
