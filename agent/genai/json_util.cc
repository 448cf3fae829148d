#include "agent/genai/json_util.h"

#include <limits>

namespace jamjet::genai {

using nlohmann::json;

std::optional<json> ParseJsonObject(std::string_view text) {
  json document = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                              /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) return std::nullopt;
  return document;
}

const json* FindMember(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end()) return nullptr;
  return &*it;
}

const json* FindObject(const json& object, std::string_view key) {
  const json* member = FindMember(object, key);
  return member != nullptr && member->is_object() ? member : nullptr;
}

const json* FindArray(const json& object, std::string_view key) {
  const json* member = FindMember(object, key);
  return member != nullptr && member->is_array() ? member : nullptr;
}

std::optional<std::string> GetString(const json& object, std::string_view key) {
  const json* member = FindMember(object, key);
  if (member == nullptr || !member->is_string()) return std::nullopt;
  return member->get_ref<const std::string&>();
}

std::optional<bool> GetBool(const json& object, std::string_view key) {
  const json* member = FindMember(object, key);
  if (member == nullptr || !member->is_boolean()) return std::nullopt;
  return member->get<bool>();
}

std::optional<int64_t> GetCount(const json& object, std::string_view key) {
  const json* member = FindMember(object, key);
  if (member == nullptr) return std::nullopt;
  if (member->is_number_unsigned()) {
    uint64_t value = member->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(value);
  }
  if (member->is_number_integer()) {
    int64_t value = member->get<int64_t>();
    if (value < 0) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

void UpdateCount(const json& object, std::string_view key, std::optional<int64_t>& target) {
  if (std::optional<int64_t> value = GetCount(object, key)) target = value;
}

void UpdateString(const json& object, std::string_view key, std::optional<std::string>& target) {
  if (std::optional<std::string> value = GetString(object, key)) target = std::move(value);
}

}  // namespace jamjet::genai
