// Token counts reported by an LLM API response.
#pragma once

#include <cstdint>
#include <optional>

namespace jamjet::genai {

// Token usage normalised across providers. Each field is empty when the response did not report
// it, which is different from a reported zero.
struct Usage {
  // All input tokens, including cache reads and cache writes. Anthropic reports cache reads and
  // writes apart from input_tokens, so its parser adds them in.
  std::optional<int64_t> input_tokens;
  std::optional<int64_t> output_tokens;  // includes reasoning tokens
  std::optional<int64_t> cache_read_input_tokens;
  std::optional<int64_t> cache_creation_input_tokens;
  std::optional<int64_t> reasoning_output_tokens;
};

}  // namespace jamjet::genai
