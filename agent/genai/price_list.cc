// The built-in price table: public list prices of OpenAI and Anthropic in USD per million tokens
// for standard (not batch or priority) processing. Providers change prices and add models, so
// update the table by hand.
// NOTE: calls to models missing here get no cost_usd attribute.
#include "agent/genai/prices.h"

namespace jamjet::genai {
namespace {

ModelPrice Price(std::string model, TokenPrices prices) {
  ModelPrice price;
  price.model = std::move(model);
  price.prices = prices;
  return price;
}

// OpenAI bills no extra charge for writing the prompt cache, so cache writes cost input price.
ModelPrice OpenAi(std::string model, double input, double cached_input, double output) {
  return Price(std::move(model), {input, cached_input, input, output});
}

// Models without a cached-input discount bill cached tokens as input tokens.
ModelPrice OpenAiUncached(std::string model, double input, double output) {
  return OpenAi(std::move(model), input, input, output);
}

// Anthropic's cache write price is the one for 5-minute cache entries.
ModelPrice Claude(std::string model, double input, double cache_read, double cache_write,
                  double output) {
  return Price(std::move(model), {input, cache_read, cache_write, output});
}

// Claude Sonnet 4 and 4.5 with the 1M-token context window bill requests over 200K input tokens,
// counting cache reads and writes, at these prices for all of their tokens.
ModelPrice ClaudeSonnetLongContext(std::string model) {
  ModelPrice price = Claude(std::move(model), 3, 0.3, 3.75, 15);
  price.long_context_threshold = 200'000;
  price.long_context = {6, 0.6, 7.5, 22.5};
  return price;
}

std::vector<ModelPrice> OpenAiPrices() {
  return {
      OpenAi("gpt-5", 1.25, 0.125, 10),
      OpenAi("gpt-5-chat-latest", 1.25, 0.125, 10),
      OpenAi("gpt-5-mini", 0.25, 0.025, 2),
      OpenAi("gpt-5-nano", 0.05, 0.005, 0.4),
      OpenAiUncached("gpt-5-pro", 15, 120),
      OpenAi("gpt-5.1", 1.25, 0.125, 10),
      OpenAi("gpt-5.1-chat-latest", 1.25, 0.125, 10),
      OpenAi("gpt-5.2", 1.75, 0.175, 14),
      OpenAi("gpt-5.2-chat-latest", 1.75, 0.175, 14),
      OpenAiUncached("gpt-5.2-pro", 21, 168),
      OpenAi("gpt-4.1", 2, 0.5, 8),
      OpenAi("gpt-4.1-mini", 0.4, 0.1, 1.6),
      OpenAi("gpt-4.1-nano", 0.1, 0.025, 0.4),
      OpenAi("gpt-4o", 2.5, 1.25, 10),
      // The first gpt-4o snapshot kept its launch price.
      OpenAiUncached("gpt-4o-2024-05-13", 5, 15),
      OpenAiUncached("chatgpt-4o-latest", 5, 15),
      OpenAi("gpt-4o-mini", 0.15, 0.075, 0.6),
      OpenAi("o1", 15, 7.5, 60),
      OpenAi("o1-preview", 15, 7.5, 60),
      OpenAi("o1-mini", 1.1, 0.55, 4.4),
      OpenAiUncached("o1-pro", 150, 600),
      OpenAi("o3", 2, 0.5, 8),
      OpenAiUncached("o3-pro", 20, 80),
      OpenAi("o3-mini", 1.1, 0.55, 4.4),
      OpenAi("o4-mini", 1.1, 0.275, 4.4),
      OpenAi("gpt-4.5-preview", 75, 37.5, 150),
      OpenAiUncached("gpt-4-turbo", 10, 30),
      OpenAiUncached("gpt-4-1106-preview", 10, 30),
      OpenAiUncached("gpt-4-0125-preview", 10, 30),
      OpenAiUncached("gpt-4", 30, 60),
      OpenAiUncached("gpt-3.5-turbo", 0.5, 1.5),
  };
}

std::vector<ModelPrice> AnthropicPrices() {
  return {
      Claude("claude-opus-4-5", 5, 0.5, 6.25, 25),
      Claude("claude-opus-4-1", 15, 1.5, 18.75, 75),
      Claude("claude-opus-4-0", 15, 1.5, 18.75, 75),
      Claude("claude-opus-4", 15, 1.5, 18.75, 75),
      ClaudeSonnetLongContext("claude-sonnet-4-5"),
      ClaudeSonnetLongContext("claude-sonnet-4-0"),
      ClaudeSonnetLongContext("claude-sonnet-4"),
      Claude("claude-haiku-4-5", 1, 0.1, 1.25, 5),
      Claude("claude-3-7-sonnet", 3, 0.3, 3.75, 15),
      Claude("claude-3-5-sonnet", 3, 0.3, 3.75, 15),
      Claude("claude-3-5-haiku", 0.8, 0.08, 1, 4),
      Claude("claude-3-opus", 15, 1.5, 18.75, 75),
      Claude("claude-3-haiku", 0.25, 0.03, 0.3, 1.25),
  };
}

}  // namespace

const PriceTable& PriceTable::BuiltIn() {
  static const PriceTable kTable([] {
    PriceTable::Entries entries;
    entries[static_cast<size_t>(ProviderId::kOpenAi)] = OpenAiPrices();
    entries[static_cast<size_t>(ProviderId::kAnthropic)] = AnthropicPrices();
    return PriceTable(std::move(entries));
  }());
  return kTable;
}

}  // namespace jamjet::genai
