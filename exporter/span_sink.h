// Destinations for finished spans.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/span.h"

namespace jamjet {

// Describes the host and agent that produced the spans (OpenTelemetry resource attributes).
struct Resource {
  Attributes attributes;
};

// Returns the resource of this host: host.name, os.type and the agent's identity.
Resource DetectHostResource();

class SpanSink {
 public:
  virtual ~SpanSink() = default;
  // Takes one finished span. A span that cannot be written is counted in dropped().
  virtual void Export(const Span& span) = 0;
  virtual void Flush() = 0;
  virtual uint64_t exported() const = 0;
  virtual uint64_t dropped() const = 0;
  virtual std::string description() const = 0;
};

// Parses an --output value: "stdout" or "file:PATH".
absl::StatusOr<std::unique_ptr<SpanSink>> CreateSink(const std::string& spec,
                                                     const Resource& resource);

}  // namespace jamjet
