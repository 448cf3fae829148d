#include "agent/genai/prices.h"

#include <utility>

#include "agent/genai/text_util.h"

namespace jamjet::genai {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Returns true when `suffix` turns a model id into one of its snapshots: "-latest", or a
// separator followed by a date or version number such as "-2024-08-06", "-20250514", "-0125" or
// "@20250514". Suffixes like "-pro" or ".1" name other models and return false.
bool IsSnapshotSuffix(std::string_view suffix) {
  if (suffix == "-latest") return true;
  if (suffix.size() < 5 || (suffix[0] != '-' && suffix[0] != '@')) return false;
  for (size_t i = 1; i < 5; ++i) {
    if (!IsDigit(suffix[i])) return false;
  }
  for (char c : suffix.substr(5)) {
    if (!IsDigit(c) && c != '-') return false;
  }
  return true;
}

// Lowercases `model` and drops a gateway's "vendor/" prefix.
std::string NormalizeModel(std::string_view model) {
  size_t slash = model.rfind('/');
  if (slash != std::string_view::npos) model.remove_prefix(slash + 1);
  return AsciiLower(model);
}

double PerMillion(int64_t tokens, double price) {
  return static_cast<double>(tokens) * price / 1e6;
}

}  // namespace

PriceTable::PriceTable(Entries entries) : entries_(std::move(entries)) {}

const ModelPrice* PriceTable::FindIn(const std::vector<ModelPrice>& entries,
                                     std::string_view model) const {
  const ModelPrice* best = nullptr;
  for (const ModelPrice& entry : entries) {
    if (entry.model == model) return &entry;
    if (!model.starts_with(entry.model)) continue;
    if (!IsSnapshotSuffix(model.substr(entry.model.size()))) continue;
    if (best == nullptr || entry.model.size() > best->model.size()) best = &entry;
  }
  return best;
}

const ModelPrice* PriceTable::Find(ProviderId provider, std::string_view model) const {
  std::string normalized = NormalizeModel(model);
  if (normalized.empty()) return nullptr;

  const size_t first = static_cast<size_t>(provider);
  if (const ModelPrice* price = FindIn(entries_[first], normalized)) return price;
  for (size_t index = 0; index < entries_.size(); ++index) {
    if (index == first) continue;
    if (const ModelPrice* price = FindIn(entries_[index], normalized)) return price;
  }
  return nullptr;
}

std::optional<double> PriceTable::Cost(ProviderId provider, std::string_view model,
                                       const Usage& usage) const {
  const ModelPrice* price = Find(provider, model);
  if (price == nullptr) return std::nullopt;
  return ComputeCost(*price, usage);
}

std::optional<double> ComputeCost(const ModelPrice& price, const Usage& usage) {
  if (!usage.input_tokens.has_value() || !usage.output_tokens.has_value()) return std::nullopt;
  const int64_t cache_read = usage.cache_read_input_tokens.value_or(0);
  const int64_t cache_write = usage.cache_creation_input_tokens.value_or(0);
  // Cache reads and writes are parts of the input count, and the rest is uncached input. The
  // checks keep the subtraction from going below zero on inconsistent counts.
  if (cache_read > *usage.input_tokens) return std::nullopt;
  if (cache_write > *usage.input_tokens - cache_read) return std::nullopt;
  const int64_t uncached = *usage.input_tokens - cache_read - cache_write;

  const bool long_context =
      price.long_context_threshold > 0 && *usage.input_tokens > price.long_context_threshold;
  const TokenPrices& rates = long_context ? price.long_context : price.prices;
  return PerMillion(uncached, rates.input) + PerMillion(cache_read, rates.cache_read) +
         PerMillion(cache_write, rates.cache_write) +
         PerMillion(*usage.output_tokens, rates.output);
}

}  // namespace jamjet::genai
