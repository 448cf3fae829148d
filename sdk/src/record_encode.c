/* Validation of a jamjet_user_context and its encoding into the record format
 * described in jamjet/registry_layout.h.
 *
 * Strings are measured and copied by one stpncpy call and checked 8 bytes at
 * a time for the common all-ASCII case, because byte-by-byte loops made an
 * enter+leave pair cost about twice the 100 ns budget (bench/sdk/RESULTS.md
 * has the measurements). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define PAYLOAD_CAPACITY (JJ_RECORD_MAX_BYTES - JJ_RECORD_HEADER_BYTES)
#define KEY_PATTERN "[A-Za-z_][A-Za-z0-9_.-]*"

_Static_assert(sizeof(jamjet_record) == JJ_RECORD_MAX_BYTES, "record size");
_Static_assert(sizeof(struct jj_record_header) == JJ_RECORD_HEADER_BYTES, "record header size");
_Static_assert(JJ_ATTR_MAX_COUNT <= 255 && JJ_ATTR_KEY_MAX_BYTES <= 255, "u8 fields");

/* Appends to the payload. Once the payload outgrows PAYLOAD_CAPACITY, the
 * writer stops copying but keeps counting, so that every field is still
 * validated and an invalid field is reported before the size. */
typedef struct {
  unsigned char* payload;
  size_t size;
} record_writer;

static void write_bytes(record_writer* writer, const void* bytes, size_t count) {
  if (writer->size + count <= PAYLOAD_CAPACITY) {
    memcpy(writer->payload + writer->size, bytes, count);
  }
  writer->size += count;
}

static void write_u8(record_writer* writer, unsigned value) {
  if (writer->size < PAYLOAD_CAPACITY) writer->payload[writer->size] = (unsigned char)value;
  writer->size += 1;
}

/* Returns whether no byte of text[0..length) has its high bit set, reading
 * 8 bytes at a time and never outside the range. */
static bool is_ascii(const unsigned char* text, size_t length) {
  const uint64_t high_bits = 0x8080808080808080ull;
  uint64_t seen = 0;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    memcpy(&word, text + i, sizeof word);
    seen |= word;
  }
  if (i < length && length >= 8) {
    /* The last 8 bytes, overlapping the ones already read. */
    uint64_t word;
    memcpy(&word, text + length - 8, sizeof word);
    seen |= word;
  } else {
    for (; i < length; ++i) seen |= text[i];
  }
  return (seen & high_bits) == 0;
}

/* Returns the offset of the first byte that is not part of a valid UTF-8
 * sequence, or length when all of text is valid. Rejects overlong forms,
 * surrogates and code points above U+10FFFF (RFC 3629, section 4). */
static size_t find_invalid_utf8(const unsigned char* text, size_t length) {
  size_t i = 0;
  while (i < length) {
    unsigned char lead = text[i];
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    /* Allowed range of the second byte, and the total sequence length. */
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xbf;
    size_t sequence_length;
    if (lead >= 0xc2 && lead <= 0xdf) {
      sequence_length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      sequence_length = 3;
      if (lead == 0xe0) second_min = 0xa0; /* overlong */
      if (lead == 0xed) second_max = 0x9f; /* surrogates */
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      sequence_length = 4;
      if (lead == 0xf0) second_min = 0x90; /* overlong */
      if (lead == 0xf4) second_max = 0x8f; /* above U+10FFFF */
    } else {
      return i;
    }
    if (length - i < sequence_length) return i;
    if (text[i + 1] < second_min || text[i + 1] > second_max) return i;
    for (size_t k = 2; k < sequence_length; ++k) {
      if ((text[i + k] & 0xc0) != 0x80) return i;
    }
    i += sequence_length;
  }
  return length;
}

/* Appends a u16 length and the bytes of the NUL-terminated UTF-8 string text,
 * which must be at most max_bytes long. field_format and index name the field
 * in errors. */
static jamjet_status write_string(record_writer* writer, const char* text, size_t max_bytes,
                                  const char* field_format, size_t index) {
  char field[48];
  const size_t offset = writer->size;
  const size_t start = offset + 2;
  const size_t room = start < PAYLOAD_CAPACITY ? PAYLOAD_CAPACITY - start : 0;
  /* One stpncpy both measures and copies. It zero-fills the rest of the copy
   * window, which later fields overwrite. */
  const size_t window = room < max_bytes + 1 ? room : max_bytes + 1;
  size_t length = 0;
  if (window > 0) {
    char* out = (char*)writer->payload + start;
    length = (size_t)(stpncpy(out, text, window) - out);
  }
  if (length == window && window < max_bytes + 1) {
    /* The record is already full: measure the rest for the size check. */
    length += strnlen(text + length, max_bytes + 1 - length);
  }
  if (length > max_bytes) {
    snprintf(field, sizeof field, field_format, index);
    return jj_sdk_fail(JAMJET_ERR_VALUE_TOO_LONG, "%s is longer than the maximum of %zu bytes",
                       field, max_bytes);
  }
  const unsigned char* bytes = (const unsigned char*)text;
  if (!is_ascii(bytes, length)) {
    size_t invalid = find_invalid_utf8(bytes, length);
    if (invalid != length) {
      snprintf(field, sizeof field, field_format, index);
      return jj_sdk_fail(JAMJET_ERR_INVALID_UTF8, "%s is not valid UTF-8: bad sequence at byte %zu",
                         field, invalid);
    }
  }
  if (start + length <= PAYLOAD_CAPACITY) {
    writer->payload[offset] = (unsigned char)(length & 0xff);
    writer->payload[offset + 1] = (unsigned char)(length >> 8);
  }
  writer->size = start + length;
  return JAMJET_OK;
}

/* Character classes of attribute keys: KEY_START may begin a key, KEY_REST
 * may follow. KEY_REST is KEY_START << 1, so that a whole key can be checked
 * without a branch per byte. */
enum { KEY_START = 1, KEY_REST = 2 };
static const unsigned char key_char_class[256] = {
    ['-'] = KEY_REST,
    ['.'] = KEY_REST,
    ['0' ... '9'] = KEY_REST,
    ['A' ... 'Z'] = KEY_START | KEY_REST,
    ['_'] = KEY_START | KEY_REST,
    ['a' ... 'z'] = KEY_START | KEY_REST,
};

/* Copies at most JJ_ATTR_KEY_MAX_BYTES bytes of key into out for an error
 * message, escaping bytes that are not printable ASCII as \xNN. */
static void quote_key(char* out, size_t capacity, const char* key) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; key[i] != '\0' && i < JJ_ATTR_KEY_MAX_BYTES; ++i) {
    unsigned char c = (unsigned char)key[i];
    int written;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      written = snprintf(out + used, capacity - used, "%c", c);
    } else {
      written = snprintf(out + used, capacity - used, "\\x%02x", c);
    }
    if (written < 0 || (size_t)written >= capacity - used) return;
    used += (size_t)written;
  }
}

static jamjet_status fail_key(jamjet_status status, const char* key, size_t index,
                              const char* problem) {
  char quoted[4 * JJ_ATTR_KEY_MAX_BYTES + 1];
  quote_key(quoted, sizeof quoted, key);
  return jj_sdk_fail(status, "attrs[%zu].key \"%s\" %s", index, quoted, problem);
}

/* Appends the u8 length and bytes of attrs[index].key after checking that it
 * is a plain name of 1..JJ_ATTR_KEY_MAX_BYTES bytes that no earlier key
 * repeats. key_lengths contains the lengths of the earlier keys. */
static jamjet_status write_key(record_writer* writer, const jamjet_attr* attrs, size_t index,
                               size_t* key_lengths) {
  const char* key = attrs[index].key;
  if (key == NULL) {
    return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "attrs[%zu].key is NULL", index);
  }
  if (key[0] == '\0') {
    return jj_sdk_fail(JAMJET_ERR_INVALID_KEY, "attrs[%zu].key is empty: it must match %s", index,
                       KEY_PATTERN);
  }
  /* Keys are at most 32 bytes, so an inline loop measures and checks them in
   * one pass without a library call. */
  unsigned char classes = key_char_class[(unsigned char)key[0]] & KEY_START;
  size_t length = 1;
  for (; length <= JJ_ATTR_KEY_MAX_BYTES && key[length] != '\0'; ++length) {
    classes &= key_char_class[(unsigned char)key[length]] >> 1;
  }
  if (length > JJ_ATTR_KEY_MAX_BYTES) {
    return fail_key(JAMJET_ERR_VALUE_TOO_LONG, key, index,
                    "is longer than the maximum of 32 bytes");
  }
  if (classes == 0) {
    return fail_key(JAMJET_ERR_INVALID_KEY, key, index,
                    "is not a plain name: it must match " KEY_PATTERN);
  }
  for (size_t earlier = 0; earlier < index; ++earlier) {
    if (key_lengths[earlier] == length && memcmp(attrs[earlier].key, key, length) == 0) {
      char problem[64];
      snprintf(problem, sizeof problem, "repeats attrs[%zu].key: keys must be unique", earlier);
      return fail_key(JAMJET_ERR_INVALID_KEY, key, index, problem);
    }
  }
  key_lengths[index] = length;
  write_u8(writer, (unsigned)length);
  write_bytes(writer, key, length);
  return JAMJET_OK;
}

_Static_assert(JJ_ATTR_KEY_MAX_BYTES == 32, "the key error message names the limit");

static jamjet_status write_attr(record_writer* writer, const jamjet_attr* attrs, size_t index,
                                size_t* key_lengths) {
  const jamjet_attr* attr = &attrs[index];
  jamjet_status status = write_key(writer, attrs, index, key_lengths);
  if (status != JAMJET_OK) return status;

  switch (attr->type) {
    case JAMJET_ATTR_STRING:
      if (attr->value.string == NULL) {
        return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "attrs[%zu].value.string is NULL", index);
      }
      write_u8(writer, JJ_ATTR_STRING);
      return write_string(writer, attr->value.string, JJ_ATTR_STRING_MAX_BYTES,
                          "attrs[%zu].value.string", index);
    case JAMJET_ATTR_NUMBER:
      if (!isfinite(attr->value.number)) {
        return jj_sdk_fail(JAMJET_ERR_INVALID_NUMBER,
                           "attrs[%zu].value.number is %s: numbers must be finite", index,
                           isnan(attr->value.number) ? "NaN" : "infinite");
      }
      write_u8(writer, JJ_ATTR_NUMBER);
      write_bytes(writer, &attr->value.number, sizeof attr->value.number);
      return JAMJET_OK;
    case JAMJET_ATTR_BOOL:
      write_u8(writer, JJ_ATTR_BOOL);
      write_u8(writer, attr->value.boolean != 0);
      return JAMJET_OK;
  }
  return jj_sdk_fail(JAMJET_ERR_INVALID_ATTR_TYPE,
                     "attrs[%zu].type is %d: it must be JAMJET_ATTR_STRING, JAMJET_ATTR_NUMBER or "
                     "JAMJET_ATTR_BOOL",
                     index, (int)attr->type);
}

jamjet_status jj_sdk_encode(const jamjet_user_context* ctx, jamjet_record* out) {
  if (ctx == NULL) return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "ctx is NULL");
  if (out == NULL) return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "record is NULL");
  if (ctx->user_id == NULL || ctx->user_id[0] == '\0') {
    return jj_sdk_fail(JAMJET_ERR_MISSING_USER_ID, "user_id is %s: every context needs a user id",
                       ctx->user_id == NULL ? "NULL" : "empty");
  }
  if (ctx->attr_count > JJ_ATTR_MAX_COUNT) {
    return jj_sdk_fail(JAMJET_ERR_TOO_MANY_ATTRS, "attr_count is %zu: the maximum is %u",
                       ctx->attr_count, JJ_ATTR_MAX_COUNT);
  }
  if (ctx->attr_count > 0 && ctx->attrs == NULL) {
    return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "attrs is NULL but attr_count is %zu",
                       ctx->attr_count);
  }

  record_writer writer = {out->bytes + JJ_RECORD_HEADER_BYTES, 0};
  jamjet_status status = write_string(&writer, ctx->user_id, JJ_USER_ID_MAX_BYTES, "user_id", 0);
  if (status != JAMJET_OK) return status;
  status =
      write_string(&writer, ctx->email != NULL ? ctx->email : "", JJ_EMAIL_MAX_BYTES, "email", 0);
  if (status != JAMJET_OK) return status;

  size_t key_lengths[JJ_ATTR_MAX_COUNT];
  write_u8(&writer, (unsigned)ctx->attr_count);
  for (size_t i = 0; i < ctx->attr_count; ++i) {
    status = write_attr(&writer, ctx->attrs, i, key_lengths);
    if (status != JAMJET_OK) return status;
  }

  if (writer.size > PAYLOAD_CAPACITY) {
    return jj_sdk_fail(JAMJET_ERR_RECORD_TOO_LARGE,
                       "the encoded context needs %zu payload bytes: the maximum is %u",
                       writer.size, PAYLOAD_CAPACITY);
  }
  struct jj_record_header header = {JJ_RECORD_MAGIC, (__u16)writer.size, 0};
  memcpy(out->bytes, &header, sizeof header);
  return JAMJET_OK;
}

jamjet_status jamjet_record_encode(const jamjet_user_context* ctx, jamjet_record* out) {
  return jj_sdk_encode(ctx, out);
}
