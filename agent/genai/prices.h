// List prices of LLM models and the cost of one call.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/genai/provider.h"
#include "agent/genai/usage.h"

namespace jamjet::genai {

// Prices in USD per million tokens.
struct TokenPrices {
  double input = 0;
  double cache_read = 0;   // cached input tokens read
  double cache_write = 0;  // input tokens written to the cache
  double output = 0;       // output tokens, including reasoning tokens
};

// Prices of one model. `model` matches the exact id and its dated snapshots, such as
// "gpt-4o-2024-08-06" for "gpt-4o" or "claude-sonnet-4-20250514" for "claude-sonnet-4".
struct ModelPrice {
  std::string model;
  TokenPrices prices;
  // Requests whose total input exceeds this many tokens pay `long_context` for all of their
  // tokens. Zero means the model has no long-context price.
  int64_t long_context_threshold = 0;
  TokenPrices long_context;
};

class PriceTable {
 public:
  using Entries = std::array<std::vector<ModelPrice>, kProviderCount>;  // indexed by ProviderId

  explicit PriceTable(Entries entries);

  // Returns the table of list prices compiled into the agent.
  static const PriceTable& BuiltIn();

  // Finds the prices of `model`. The table of `provider` is searched first, then the tables of
  // the other providers, because gateways and compatible servers serve other vendors' models.
  // Matching ignores case and a leading "vendor/" as gateways write it ("openai/gpt-4o"). An exact
  // id wins over the longest id of which `model` is a dated snapshot. Returns nullptr when no
  // entry matches.
  const ModelPrice* Find(ProviderId provider, std::string_view model) const;

  // Returns the cost in USD of a call with `usage`, or nullopt when the model is unknown or the
  // input or output token count is missing.
  std::optional<double> Cost(ProviderId provider, std::string_view model, const Usage& usage) const;

 private:
  const ModelPrice* FindIn(const std::vector<ModelPrice>& entries, std::string_view model) const;

  Entries entries_;
};

// Returns the cost in USD of `usage` at `price`, or nullopt when the input or output count is
// missing or the cache counts exceed the input count.
std::optional<double> ComputeCost(const ModelPrice& price, const Usage& usage);

}  // namespace jamjet::genai
