// Every validation error of jamjet_record_encode, jamjet_scope_enter and
// jamjet_set_process_context, with the field that jamjet_last_error names.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "jamjet/jamjet.h"

namespace {

jamjet_attr StringAttr(const char* key, const char* value) {
  jamjet_attr attr{};
  attr.key = key;
  attr.type = JAMJET_ATTR_STRING;
  attr.value.string = value;
  return attr;
}

jamjet_attr NumberAttr(const char* key, double value) {
  jamjet_attr attr{};
  attr.key = key;
  attr.type = JAMJET_ATTR_NUMBER;
  attr.value.number = value;
  return attr;
}

jamjet_attr BoolAttr(const char* key, int value) {
  jamjet_attr attr{};
  attr.key = key;
  attr.type = JAMJET_ATTR_BOOL;
  attr.value.boolean = value;
  return attr;
}

const std::string kLongUserId(JJ_USER_ID_MAX_BYTES + 1, 'u');
const std::string kMaxUserId(JJ_USER_ID_MAX_BYTES, 'u');
const std::string kLongEmail(JJ_EMAIL_MAX_BYTES + 1, 'e');
const std::string kLongString(JJ_ATTR_STRING_MAX_BYTES + 1, 's');
const std::string kLongKey(JJ_ATTR_KEY_MAX_BYTES + 1, 'k');

// Invalid UTF-8 sequences, each with a valid ASCII prefix long enough to use the 8-byte path.
const std::vector<std::pair<std::string, std::string>> kInvalidUtf8 = {
    {"lone continuation", "abcdefgh\x80"},
    {"truncated 2-byte", "abcdefgh\xc3"},
    {"truncated 3-byte", "ab\xe2\x82"},
    {"truncated 4-byte", "ab\xf0\x9f\x98"},
    {"overlong 2-byte slash", "\xc0\xaf"},
    {"overlong 2-byte C1", "\xc1\xbf"},
    {"overlong 3-byte", "\xe0\x80\xaf"},
    {"overlong 4-byte", "\xf0\x80\x80\xaf"},
    {"surrogate D800", "\xed\xa0\x80"},
    {"surrogate DFFF", "\xed\xbf\xbf"},
    {"above U+10FFFF", "\xf4\x90\x80\x80"},
    {"lead F5", "\xf5\x80\x80\x80"},
    {"lead FF", "\xff"},
    {"bad continuation", "\xe2\x28\xa1"},
};

jamjet_status Encode(const char* user_id, const char* email,
                     const std::vector<jamjet_attr>& attrs) {
  jamjet_user_context ctx{user_id, email, attrs.data(), attrs.size()};
  jamjet_record record;
  return jamjet_record_encode(&ctx, &record);
}

TEST(SdkValidation, NullArguments) {
  jamjet_record record;
  EXPECT_EQ(jamjet_record_encode(nullptr, &record), JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_STREQ(jamjet_last_error(), "ctx is NULL");
  jamjet_user_context ctx{"user-1", nullptr, nullptr, 0};
  EXPECT_EQ(jamjet_record_encode(&ctx, nullptr), JAMJET_ERR_NULL_ARGUMENT);
  jamjet_scope scope;
  EXPECT_EQ(jamjet_scope_enter(&scope, nullptr), JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_EQ(jamjet_scope_enter(nullptr, &ctx), JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_EQ(jamjet_scope_leave(nullptr), JAMJET_ERR_NULL_ARGUMENT);

  ctx.attr_count = 2;
  EXPECT_EQ(jamjet_record_encode(&ctx, &record), JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_STREQ(jamjet_last_error(), "attrs is NULL but attr_count is 2");

  EXPECT_EQ(Encode("user-1", nullptr, {StringAttr(nullptr, "x")}), JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_STREQ(jamjet_last_error(), "attrs[0].key is NULL");
  EXPECT_EQ(Encode("user-1", nullptr, {BoolAttr("a", 1), StringAttr("b", nullptr)}),
            JAMJET_ERR_NULL_ARGUMENT);
  EXPECT_STREQ(jamjet_last_error(), "attrs[1].value.string is NULL");
}

TEST(SdkValidation, MissingUserId) {
  EXPECT_EQ(Encode(nullptr, nullptr, {}), JAMJET_ERR_MISSING_USER_ID);
  EXPECT_STREQ(jamjet_last_error(), "user_id is NULL: every context needs a user id");
  EXPECT_EQ(Encode("", "a@example.com", {}), JAMJET_ERR_MISSING_USER_ID);
  EXPECT_STREQ(jamjet_last_error(), "user_id is empty: every context needs a user id");
}

TEST(SdkValidation, LengthLimits) {
  EXPECT_EQ(Encode(kMaxUserId.c_str(), nullptr, {}), JAMJET_OK);
  EXPECT_EQ(Encode(kLongUserId.c_str(), nullptr, {}), JAMJET_ERR_VALUE_TOO_LONG);
  EXPECT_STREQ(jamjet_last_error(), "user_id is longer than the maximum of 128 bytes");

  const std::string max_email(JJ_EMAIL_MAX_BYTES, 'e');
  EXPECT_EQ(Encode("u", max_email.c_str(), {}), JAMJET_OK);
  EXPECT_EQ(Encode("u", kLongEmail.c_str(), {}), JAMJET_ERR_VALUE_TOO_LONG);
  EXPECT_STREQ(jamjet_last_error(), "email is longer than the maximum of 254 bytes");

  const std::string max_string(JJ_ATTR_STRING_MAX_BYTES, 's');
  EXPECT_EQ(Encode("u", nullptr, {StringAttr("plan", max_string.c_str())}), JAMJET_OK);
  EXPECT_EQ(Encode("u", nullptr, {BoolAttr("a", 0), StringAttr("plan", kLongString.c_str())}),
            JAMJET_ERR_VALUE_TOO_LONG);
  EXPECT_STREQ(jamjet_last_error(),
               "attrs[1].value.string is longer than the maximum of 128 bytes");

  const std::string max_key(JJ_ATTR_KEY_MAX_BYTES, 'k');
  EXPECT_EQ(Encode("u", nullptr, {BoolAttr(max_key.c_str(), 1)}), JAMJET_OK);
  EXPECT_EQ(Encode("u", nullptr, {BoolAttr(kLongKey.c_str(), 1)}), JAMJET_ERR_VALUE_TOO_LONG);
  EXPECT_NE(std::string(jamjet_last_error()).find("attrs[0].key \"kkkk"), std::string::npos)
      << jamjet_last_error();
}

TEST(SdkValidation, TooManyAttrs) {
  std::vector<std::string> keys;
  for (unsigned i = 0; i <= JJ_ATTR_MAX_COUNT; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<jamjet_attr> attrs;
  for (unsigned i = 0; i < JJ_ATTR_MAX_COUNT; ++i) attrs.push_back(NumberAttr(keys[i].c_str(), i));
  EXPECT_EQ(Encode("u", nullptr, attrs), JAMJET_OK);
  attrs.push_back(NumberAttr(keys[JJ_ATTR_MAX_COUNT].c_str(), 1));
  EXPECT_EQ(Encode("u", nullptr, attrs), JAMJET_ERR_TOO_MANY_ATTRS);
  EXPECT_STREQ(jamjet_last_error(), "attr_count is 17: the maximum is 16");
}

TEST(SdkValidation, InvalidKeys) {
  const std::vector<std::string> bad_keys = {"9x", "",    "-a",   ".a",  "a b",   "a/b",  "a:b",
                                             "é",  "a\n", "a\"b", "a=b", "a\x7f", "\xff", "a+b"};
  for (const std::string& key : bad_keys) {
    std::vector<jamjet_attr> attrs = {BoolAttr("ok", 1), BoolAttr("fine", 0),
                                      BoolAttr(key.c_str(), 1)};
    EXPECT_EQ(Encode("u", nullptr, attrs), JAMJET_ERR_INVALID_KEY) << "key \"" << key << "\"";
    EXPECT_EQ(std::string(jamjet_last_error()).rfind("attrs[2].key ", 0), 0u)
        << jamjet_last_error();
  }
  EXPECT_EQ(Encode("u", nullptr, {BoolAttr("9x", 1)}), JAMJET_ERR_INVALID_KEY);
  EXPECT_STREQ(jamjet_last_error(),
               "attrs[0].key \"9x\" is not a plain name: it must match [A-Za-z_][A-Za-z0-9_.-]*");
  EXPECT_EQ(Encode("u", nullptr, {BoolAttr("a\n", 1)}), JAMJET_ERR_INVALID_KEY);
  EXPECT_STREQ(
      jamjet_last_error(),
      "attrs[0].key \"a\\x0a\" is not a plain name: it must match [A-Za-z_][A-Za-z0-9_.-]*");

  const std::vector<std::string> good_keys = {"a", "_", "Z9", "plan.tier", "a-b_c.d", "_9-."};
  for (const std::string& key : good_keys) {
    EXPECT_EQ(Encode("u", nullptr, {BoolAttr(key.c_str(), 1)}), JAMJET_OK) << key;
  }
}

TEST(SdkValidation, DuplicateKeys) {
  EXPECT_EQ(
      Encode("u", nullptr, {BoolAttr("plan", 1), NumberAttr("seats", 2), BoolAttr("plan", 0)}),
      JAMJET_ERR_INVALID_KEY);
  EXPECT_STREQ(jamjet_last_error(),
               "attrs[2].key \"plan\" repeats attrs[0].key: keys must be unique");
}

TEST(SdkValidation, InvalidUtf8InEachField) {
  for (const auto& [name, bytes] : kInvalidUtf8) {
    const char* text = bytes.c_str();
    EXPECT_EQ(Encode(text, nullptr, {}), JAMJET_ERR_INVALID_UTF8) << name;
    EXPECT_EQ(std::string(jamjet_last_error()).rfind("user_id is not valid UTF-8", 0), 0u)
        << jamjet_last_error();
    EXPECT_EQ(Encode("u", text, {}), JAMJET_ERR_INVALID_UTF8) << name;
    EXPECT_EQ(std::string(jamjet_last_error()).rfind("email is not valid UTF-8", 0), 0u);
    EXPECT_EQ(Encode("u", nullptr, {BoolAttr("a", 1), StringAttr("b", text)}),
              JAMJET_ERR_INVALID_UTF8)
        << name;
    EXPECT_EQ(std::string(jamjet_last_error()).rfind("attrs[1].value.string is not valid UTF-8", 0),
              0u);
  }
  EXPECT_EQ(Encode("abcdefgh\x80", nullptr, {}), JAMJET_ERR_INVALID_UTF8);
  EXPECT_STREQ(jamjet_last_error(), "user_id is not valid UTF-8: bad sequence at byte 8");
}

TEST(SdkValidation, ValidUtf8Accepted) {
  const std::vector<std::string> valid = {
      "\xc2\x80",          // U+0080, smallest 2-byte
      "\xdf\xbf",          // U+07FF
      "\xe0\xa0\x80",      // U+0800, smallest 3-byte
      "\xed\x9f\xbf",      // U+D7FF, just below the surrogates
      "\xee\x80\x80",      // U+E000, just above them
      "\xef\xbf\xbf",      // U+FFFF
      "\xf0\x90\x80\x80",  // U+10000, smallest 4-byte
      "\xf4\x8f\xbf\xbf",  // U+10FFFF, the maximum
      "J\xc3\xbcrgen M\xc3\xbcller \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 0123456789abcdef",
  };
  for (const std::string& text : valid) {
    EXPECT_EQ(Encode(text.c_str(), text.c_str(), {StringAttr("s", text.c_str())}), JAMJET_OK)
        << text;
  }
}

TEST(SdkValidation, NonFiniteNumbers) {
  const double values[] = {std::nan(""), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  for (double value : values) {
    EXPECT_EQ(Encode("u", nullptr, {NumberAttr("seats", value)}), JAMJET_ERR_INVALID_NUMBER)
        << value;
  }
  EXPECT_STREQ(jamjet_last_error(), "attrs[0].value.number is infinite: numbers must be finite");
  EXPECT_EQ(Encode("u", nullptr, {NumberAttr("seats", std::nan(""))}), JAMJET_ERR_INVALID_NUMBER);
  EXPECT_STREQ(jamjet_last_error(), "attrs[0].value.number is NaN: numbers must be finite");
  EXPECT_EQ(Encode("u", nullptr, {NumberAttr("max", std::numeric_limits<double>::max())}),
            JAMJET_OK);
  EXPECT_EQ(Encode("u", nullptr, {NumberAttr("tiny", std::numeric_limits<double>::denorm_min())}),
            JAMJET_OK);
}

TEST(SdkValidation, BadAttrType) {
  jamjet_attr attr = BoolAttr("a", 1);
  for (int type : {0, 4, -1, 1000}) {
    attr.type = static_cast<jamjet_attr_type>(type);
    EXPECT_EQ(Encode("u", nullptr, {attr}), JAMJET_ERR_INVALID_ATTR_TYPE) << type;
  }
  EXPECT_STREQ(jamjet_last_error(),
               "attrs[0].type is 1000: it must be JAMJET_ATTR_STRING, JAMJET_ATTR_NUMBER or "
               "JAMJET_ATTR_BOOL");
}

TEST(SdkValidation, RecordTooLarge) {
  // 16 string attributes of 128 bytes are each valid but need far more than 1016 payload bytes.
  std::vector<std::string> keys;
  for (unsigned i = 0; i < JJ_ATTR_MAX_COUNT; ++i) keys.push_back("key" + std::to_string(i));
  const std::string value(JJ_ATTR_STRING_MAX_BYTES, 'v');
  std::vector<jamjet_attr> attrs;
  for (const std::string& key : keys) attrs.push_back(StringAttr(key.c_str(), value.c_str()));
  EXPECT_EQ(Encode("u", nullptr, attrs), JAMJET_ERR_RECORD_TOO_LARGE);
  EXPECT_EQ(std::string(jamjet_last_error()).rfind("the encoded context needs ", 0), 0u);

  // A field error later in the context wins over the size, so the caller sees the real fault.
  attrs.back().key = "9bad";
  EXPECT_EQ(Encode("u", nullptr, attrs), JAMJET_ERR_INVALID_KEY);
}

TEST(SdkValidation, ErrorsLeaveScopeUnentered) {
  jamjet_scope scope;
  jamjet_user_context bad{"", nullptr, nullptr, 0};
  EXPECT_EQ(jamjet_scope_enter(&scope, &bad), JAMJET_ERR_MISSING_USER_ID);
  EXPECT_EQ(jamjet_scope_leave(&scope), JAMJET_ERR_SCOPE_MISMATCH);
  EXPECT_EQ(jamjet_set_process_context(&bad), JAMJET_ERR_MISSING_USER_ID);
}

TEST(SdkValidation, StatusStrings) {
  EXPECT_STREQ(jamjet_status_string(JAMJET_OK), "ok");
  EXPECT_STREQ(jamjet_status_string(JAMJET_ERR_INVALID_UTF8), "invalid UTF-8");
  EXPECT_STREQ(jamjet_status_string(JAMJET_ERR_INVALID_NUMBER), "invalid number");
  EXPECT_STREQ(jamjet_status_string(static_cast<jamjet_status>(99)), "unknown status");
  for (int status = JAMJET_OK; status <= JAMJET_ERR_INVALID_NUMBER; ++status) {
    EXPECT_STRNE(jamjet_status_string(static_cast<jamjet_status>(status)), "unknown status")
        << status;
  }
}

}  // namespace
