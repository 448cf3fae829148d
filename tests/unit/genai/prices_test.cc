// Model matching and cost computation of the price table.
#include "agent/genai/prices.h"

#include <gtest/gtest.h>

namespace jamjet::genai {
namespace {

const PriceTable& Table() { return PriceTable::BuiltIn(); }

std::optional<std::string> MatchedModel(ProviderId provider, std::string_view model) {
  const ModelPrice* price = Table().Find(provider, model);
  if (price == nullptr) return std::nullopt;
  return price->model;
}

Usage MakeUsage(int64_t input, int64_t output, std::optional<int64_t> cache_read = std::nullopt,
                std::optional<int64_t> cache_creation = std::nullopt) {
  Usage usage;
  usage.input_tokens = input;
  usage.output_tokens = output;
  usage.cache_read_input_tokens = cache_read;
  usage.cache_creation_input_tokens = cache_creation;
  return usage;
}

TEST(PriceTable, ExactAndSnapshotMatches) {
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-4o"), "gpt-4o");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-4o-2024-08-06"), "gpt-4o");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-4o-mini-2024-07-18"), "gpt-4o-mini");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-4o-2024-05-13"), "gpt-4o-2024-05-13");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "o3-mini-2025-01-31"), "o3-mini");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-5-2025-08-07"), "gpt-5");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "gpt-3.5-turbo-0125"), "gpt-3.5-turbo");
  EXPECT_EQ(MatchedModel(ProviderId::kAnthropic, "claude-sonnet-4-20250514"), "claude-sonnet-4");
  EXPECT_EQ(MatchedModel(ProviderId::kAnthropic, "claude-sonnet-4-5-20250929"),
            "claude-sonnet-4-5");
  EXPECT_EQ(MatchedModel(ProviderId::kAnthropic, "claude-opus-4-1-20250805"), "claude-opus-4-1");
  EXPECT_EQ(MatchedModel(ProviderId::kAnthropic, "claude-3-5-haiku-latest"), "claude-3-5-haiku");
  EXPECT_EQ(MatchedModel(ProviderId::kAnthropic, "claude-sonnet-4@20250514"), "claude-sonnet-4");
}

TEST(PriceTable, OtherModelsDoNotMatchByPrefix) {
  // Each of these starts with a known id but names a different model with a different price.
  for (const char* model : {"gpt-5.4", "gpt-5-codex", "gpt-4o-realtime-preview", "o3-deep-research",
                            "gpt-4-1106-vision-preview", "claude-opus-4-6", "claude-sonnet-4-7",
                            "gpt-4o-mini-tts", "gpt"}) {
    SCOPED_TRACE(model);
    EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, model), std::nullopt);
  }
}

TEST(PriceTable, GatewayNamesMatch) {
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "openai/gpt-4.1-mini"), "gpt-4.1-mini");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "GPT-4o"), "gpt-4o");
  // A compatible server may serve another vendor's model through Chat Completions.
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "anthropic/claude-haiku-4-5"), "claude-haiku-4-5");
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, ""), std::nullopt);
  EXPECT_EQ(MatchedModel(ProviderId::kOpenAi, "llama-3.1-8b-instruct"), std::nullopt);
}

TEST(PriceTable, OpenAiCostWithCachedInput) {
  // gpt-4.1: $2 input, $0.50 cached input, $8 output per million tokens.
  std::optional<double> cost =
      Table().Cost(ProviderId::kOpenAi, "gpt-4.1", MakeUsage(1'000'000, 500'000, 400'000));
  ASSERT_TRUE(cost.has_value());
  EXPECT_DOUBLE_EQ(*cost, 0.6 * 2 + 0.4 * 0.5 + 0.5 * 8);
}

TEST(PriceTable, AnthropicCostWithCacheReadAndWrite) {
  // claude-3-5-haiku: $0.80 input, $0.08 cache read, $1 cache write, $4 output per million.
  // The input count of 1,600,000 includes 500,000 cache reads and 100,000 cache writes.
  std::optional<double> cost = Table().Cost(ProviderId::kAnthropic, "claude-3-5-haiku-20241022",
                                            MakeUsage(1'600'000, 200'000, 500'000, 100'000));
  ASSERT_TRUE(cost.has_value());
  EXPECT_DOUBLE_EQ(*cost, 1.0 * 0.8 + 0.5 * 0.08 + 0.1 * 1 + 0.2 * 4);
}

TEST(PriceTable, LongContextPrice) {
  // claude-sonnet-4-5 bills all tokens of a request over 200K input tokens at $6 and $22.50.
  std::optional<double> short_cost =
      Table().Cost(ProviderId::kAnthropic, "claude-sonnet-4-5", MakeUsage(200'000, 1'000'000));
  std::optional<double> long_cost =
      Table().Cost(ProviderId::kAnthropic, "claude-sonnet-4-5", MakeUsage(200'001, 1'000'000));
  ASSERT_TRUE(short_cost.has_value());
  ASSERT_TRUE(long_cost.has_value());
  EXPECT_DOUBLE_EQ(*short_cost, 0.2 * 3 + 15);
  EXPECT_DOUBLE_EQ(*long_cost, 0.200001 * 6 + 22.5);
}

TEST(PriceTable, SpotPrices) {
  struct Expected {
    ProviderId provider;
    const char* model;
    TokenPrices prices;
  };
  const Expected kExpected[] = {
      {ProviderId::kOpenAi, "gpt-4o-mini", {0.15, 0.075, 0.15, 0.6}},
      {ProviderId::kOpenAi, "gpt-5", {1.25, 0.125, 1.25, 10}},
      {ProviderId::kOpenAi, "o1", {15, 7.5, 15, 60}},
      {ProviderId::kAnthropic, "claude-opus-4-5", {5, 0.5, 6.25, 25}},
      {ProviderId::kAnthropic, "claude-3-haiku", {0.25, 0.03, 0.3, 1.25}},
  };
  for (const Expected& expected : kExpected) {
    SCOPED_TRACE(expected.model);
    const ModelPrice* price = Table().Find(expected.provider, expected.model);
    ASSERT_NE(price, nullptr);
    EXPECT_DOUBLE_EQ(price->prices.input, expected.prices.input);
    EXPECT_DOUBLE_EQ(price->prices.cache_read, expected.prices.cache_read);
    EXPECT_DOUBLE_EQ(price->prices.cache_write, expected.prices.cache_write);
    EXPECT_DOUBLE_EQ(price->prices.output, expected.prices.output);
  }
}

TEST(PriceTable, NoCostWithoutUsage) {
  Usage usage;
  usage.input_tokens = 10;
  EXPECT_EQ(Table().Cost(ProviderId::kOpenAi, "gpt-4o", usage), std::nullopt);
  usage = Usage{};
  usage.output_tokens = 10;
  EXPECT_EQ(Table().Cost(ProviderId::kOpenAi, "gpt-4o", usage), std::nullopt);
  EXPECT_EQ(Table().Cost(ProviderId::kOpenAi, "unknown-model", MakeUsage(1, 1)), std::nullopt);
}

TEST(PriceTable, InconsistentCacheCountsGiveNoCost) {
  EXPECT_EQ(Table().Cost(ProviderId::kOpenAi, "gpt-4o", MakeUsage(10, 1, 11)), std::nullopt);
  EXPECT_EQ(Table().Cost(ProviderId::kAnthropic, "claude-3-haiku", MakeUsage(10, 1, 6, 5)),
            std::nullopt);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Table().Cost(ProviderId::kAnthropic, "claude-3-haiku", MakeUsage(0, 1, kMax, kMax)),
            std::nullopt);
}

TEST(PriceTable, CustomTable) {
  ModelPrice local;
  local.model = "local-model";
  local.prices = {1, 1, 1, 2};
  PriceTable::Entries entries;
  entries[static_cast<size_t>(ProviderId::kOpenAi)] = {local};
  PriceTable table(std::move(entries));
  std::optional<double> cost =
      table.Cost(ProviderId::kOpenAi, "local-model-2025-01-01", MakeUsage(1'000'000, 1'000'000));
  ASSERT_TRUE(cost.has_value());
  EXPECT_DOUBLE_EQ(*cost, 3);
  EXPECT_EQ(table.Find(ProviderId::kOpenAi, "gpt-4o"), nullptr);
}

}  // namespace
}  // namespace jamjet::genai
