// Turns an HTTP exchange that is an LLM API call into an OpenTelemetry GenAI client span.
#pragma once

#include <optional>

#include "agent/genai/exchange.h"
#include "agent/genai/id_source.h"
#include "agent/genai/prices.h"
#include "agent/span.h"

namespace jamjet::genai {

// Builds a span that follows the OpenTelemetry GenAI semantic conventions for `exchange`, or
// returns nullopt when the exchange is not a recognised LLM API call. Attributes are set only
// for values the exchange carries. A missing usage count stays absent instead of becoming zero.
// No header, body, prompt, query string or key reaches the span.
std::optional<Span> BuildLlmSpan(const Exchange& exchange, const PriceTable& prices, IdSource& ids);

}  // namespace jamjet::genai
