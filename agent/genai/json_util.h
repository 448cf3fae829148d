// Non-throwing access to JSON documents that come from the network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace jamjet::genai {

// Parses `text` as a JSON object. Returns nullopt for invalid JSON and for any other JSON type.
std::optional<nlohmann::json> ParseJsonObject(std::string_view text);

// Member accessors. Each returns nullptr or nullopt when `object` is not an object, the member is
// missing, or the member has another type, so they never throw.
const nlohmann::json* FindMember(const nlohmann::json& object, std::string_view key);
const nlohmann::json* FindObject(const nlohmann::json& object, std::string_view key);
const nlohmann::json* FindArray(const nlohmann::json& object, std::string_view key);
std::optional<std::string> GetString(const nlohmann::json& object, std::string_view key);
std::optional<bool> GetBool(const nlohmann::json& object, std::string_view key);
// Accepts non-negative integers only, because token counts are never negative. Values above
// INT64_MAX are rejected too.
std::optional<int64_t> GetCount(const nlohmann::json& object, std::string_view key);

// Sets `target` to the member's value when the member is present, and leaves it alone otherwise.
void UpdateCount(const nlohmann::json& object, std::string_view key,
                 std::optional<int64_t>& target);
void UpdateString(const nlohmann::json& object, std::string_view key,
                  std::optional<std::string>& target);

}  // namespace jamjet::genai
