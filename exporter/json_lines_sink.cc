#include "exporter/json_lines_sink.h"

#include <cerrno>
#include <cstring>
#include <variant>

#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace jamjet {
namespace {

using Json = nlohmann::ordered_json;

Json AttributesToJson(const Attributes& attributes) {
  Json object = Json::object();
  for (const auto& [key, value] : attributes) {
    std::visit([&](const auto& typed) { object[key] = typed; }, value);
  }
  return object;
}

const char* StatusName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kError:
      return "error";
    case StatusCode::kUnset:
      break;
  }
  return "unset";
}

}  // namespace

std::string FormatSpanJson(const Span& span, const Resource& resource) {
  Json line;
  line["name"] = span.name;
  line["kind"] = "client";
  line["trace_id"] = span.trace_id;
  line["span_id"] = span.span_id;
  line["start_time_unix_nano"] = span.start_time_unix_nano;
  line["end_time_unix_nano"] = span.end_time_unix_nano;
  line["status"] = {{"code", StatusName(span.status_code)}, {"message", span.status_message}};
  line["attributes"] = AttributesToJson(span.attributes);
  Json merged = AttributesToJson(resource.attributes);
  for (const auto& [key, value] : span.resource) {
    std::visit([&](const auto& typed) { merged[key] = typed; }, value);
  }
  line["resource"] = std::move(merged);
  // Invalid UTF-8 from a captured payload is replaced rather than aborting the line.
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

JsonLinesSink::JsonLinesSink(FILE* stream, bool owns_stream, std::string description,
                             Resource resource)
    : stream_(stream),
      owns_stream_(owns_stream),
      description_(std::move(description)),
      resource_(std::move(resource)) {}

JsonLinesSink::~JsonLinesSink() {
  Flush();
  if (owns_stream_) fclose(stream_);
}

void JsonLinesSink::Export(const Span& span) {
  std::string line = FormatSpanJson(span, resource_);
  line.push_back('\n');
  size_t written = fwrite(line.data(), 1, line.size(), stream_);
  // Spans are flushed one by one so that readers of the file see each call promptly.
  if (written != line.size() || fflush(stream_) != 0) {
    int error = errno;
    ++dropped_;
    clearerr(stream_);
    // Log the first failure and then every 1000th, so a full disk does not flood the log.
    if (dropped_ == 1 || dropped_ % 1000 == 0) {
      spdlog::error("writing a span to {} failed: {} ({} spans dropped so far)", description_,
                    std::strerror(error), dropped_);
    }
    return;
  }
  ++exported_;
}

void JsonLinesSink::Flush() { fflush(stream_); }

}  // namespace jamjet
