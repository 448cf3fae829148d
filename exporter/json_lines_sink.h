// Writes each span as one JSON object on its own line.
#pragma once

#include <cstdio>
#include <string>

#include "exporter/span_sink.h"

namespace jamjet {

// Returns the JSON line for `span`, without the trailing newline.
std::string FormatSpanJson(const Span& span, const Resource& resource);

class JsonLinesSink : public SpanSink {
 public:
  // Does not take ownership when `owns_stream` is false (stdout).
  JsonLinesSink(FILE* stream, bool owns_stream, std::string description, Resource resource);
  ~JsonLinesSink() override;

  void Export(const Span& span) override;
  void Flush() override;
  uint64_t exported() const override { return exported_; }
  uint64_t dropped() const override { return dropped_; }
  std::string description() const override { return description_; }

 private:
  FILE* stream_;
  bool owns_stream_;
  std::string description_;
  Resource resource_;
  uint64_t exported_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace jamjet
