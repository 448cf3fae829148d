// Node-API addon over the JamJet C SDK, which is compiled into this module.
//
// lib/index.js validates the JavaScript values and calls these functions:
//   encode(record, userId, email, keys, values) fills an ArrayBuffer with one jamjet_record
//   install(record | null)              sets the calling thread's current record
//   setProcessContext(userId, email, keys, values) and clearProcessContext()
//   threadRecord() and processRecord()  decode the registry, for tests and diagnostics
// The C SDK rejects what it cannot encode; its jamjet_last_error() text, which names the
// field, becomes the message of the thrown Error and the status name becomes its code.
#include <napi.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "jamjet/jamjet.h"
}

namespace {

// UTF-8 copies of one context's strings, kept alive while the C SDK reads them.
struct ContextStrings {
  std::string user_id;
  std::string email;
  std::vector<std::string> keys;
  std::vector<std::string> string_values;
  std::vector<jamjet_attr> attrs;
  jamjet_user_context context{};
};

// Returns the C enum name of a status, for example "JAMJET_ERR_VALUE_TOO_LONG".
const char* StatusCode(jamjet_status status) {
  switch (status) {
    case JAMJET_OK: return "JAMJET_OK";
    case JAMJET_ERR_NULL_ARGUMENT: return "JAMJET_ERR_NULL_ARGUMENT";
    case JAMJET_ERR_MISSING_USER_ID: return "JAMJET_ERR_MISSING_USER_ID";
    case JAMJET_ERR_VALUE_TOO_LONG: return "JAMJET_ERR_VALUE_TOO_LONG";
    case JAMJET_ERR_TOO_MANY_ATTRS: return "JAMJET_ERR_TOO_MANY_ATTRS";
    case JAMJET_ERR_INVALID_KEY: return "JAMJET_ERR_INVALID_KEY";
    case JAMJET_ERR_INVALID_UTF8: return "JAMJET_ERR_INVALID_UTF8";
    case JAMJET_ERR_INVALID_ATTR_TYPE: return "JAMJET_ERR_INVALID_ATTR_TYPE";
    case JAMJET_ERR_SCOPE_MISMATCH: return "JAMJET_ERR_SCOPE_MISMATCH";
    case JAMJET_ERR_RECORD_TOO_LARGE: return "JAMJET_ERR_RECORD_TOO_LARGE";
    case JAMJET_ERR_INVALID_NUMBER: return "JAMJET_ERR_INVALID_NUMBER";
  }
  return "JAMJET_ERR_UNKNOWN";
}

void ThrowStatus(Napi::Env env, jamjet_status status) {
  Napi::Error error = Napi::Error::New(env, jamjet_last_error());
  error.Set("code", Napi::String::New(env, StatusCode(status)));
  error.ThrowAsJavaScriptException();
}

// Reads (userId, email, keys, values) from info[first..first + 3]. The JavaScript layer has
// already checked the types, so a mismatch here is a bug in lib/context.js.
bool ReadContext(const Napi::CallbackInfo& info, size_t first, ContextStrings& out) {
  Napi::Env env = info.Env();
  if (info.Length() < first + 4 || !info[first].IsString() || !info[first + 2].IsArray() ||
      !info[first + 3].IsArray() || !(info[first + 1].IsString() || info[first + 1].IsNull())) {
    Napi::TypeError::New(env, "jamjet native: expected (userId, email | null, keys, values)")
        .ThrowAsJavaScriptException();
    return false;
  }

  out.user_id = info[first].As<Napi::String>().Utf8Value();
  bool has_email = info[first + 1].IsString();
  if (has_email) out.email = info[first + 1].As<Napi::String>().Utf8Value();
  Napi::Array keys = info[first + 2].As<Napi::Array>();
  Napi::Array values = info[first + 3].As<Napi::Array>();
  uint32_t count = keys.Length();
  if (values.Length() != count) {
    Napi::TypeError::New(env, "jamjet native: keys and values differ in length")
        .ThrowAsJavaScriptException();
    return false;
  }

  out.keys.reserve(count);
  out.string_values.reserve(count);  // no reallocation: attrs point into these strings
  out.attrs.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Napi::Value key = keys.Get(i);
    Napi::Value value = values.Get(i);
    if (!key.IsString()) {
      Napi::TypeError::New(env, "jamjet native: attribute keys must be strings")
          .ThrowAsJavaScriptException();
      return false;
    }
    out.keys.push_back(key.As<Napi::String>().Utf8Value());
    jamjet_attr& attr = out.attrs[i];
    attr.key = out.keys.back().c_str();
    if (value.IsString()) {
      out.string_values.push_back(value.As<Napi::String>().Utf8Value());
      attr.type = JAMJET_ATTR_STRING;
      attr.value.string = out.string_values.back().c_str();
    } else if (value.IsNumber()) {
      attr.type = JAMJET_ATTR_NUMBER;
      attr.value.number = value.As<Napi::Number>().DoubleValue();
    } else if (value.IsBoolean()) {
      attr.type = JAMJET_ATTR_BOOL;
      attr.value.boolean = value.As<Napi::Boolean>().Value() ? 1 : 0;
    } else {
      Napi::TypeError::New(env, "jamjet native: attribute values must be strings, numbers or booleans")
          .ThrowAsJavaScriptException();
      return false;
    }
  }
  out.context.user_id = out.user_id.c_str();
  out.context.email = has_email ? out.email.c_str() : nullptr;
  out.context.attrs = count > 0 ? out.attrs.data() : nullptr;
  out.context.attr_count = count;
  return true;
}

// encode(record, userId, email, keys, values): validates the context and encodes it into
// record, an ArrayBuffer of sizeof(jamjet_record) bytes allocated by JavaScript. Node's V8
// allocator gives backing stores malloc alignment and never moves them, so the registry can
// point at them. The record lives as long as JavaScript references the buffer.
Napi::Value Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer() ||
      info[0].As<Napi::ArrayBuffer>().ByteLength() != sizeof(jamjet_record)) {
    Napi::TypeError::New(env, "jamjet native: encode() takes an ArrayBuffer of recordBytes first")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (reinterpret_cast<uintptr_t>(buffer.Data()) % alignof(jamjet_record) != 0) {
    Napi::Error::New(env, "jamjet native: the record buffer is not 8-byte aligned").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  ContextStrings strings;
  if (!ReadContext(info, 1, strings)) return env.Undefined();
  jamjet_status status = jamjet_record_encode(&strings.context, static_cast<jamjet_record*>(buffer.Data()));
  if (status != JAMJET_OK) ThrowStatus(env, status);
  return env.Undefined();
}

// Sets the calling thread's current record: the ArrayBuffer from encode(), or null.
Napi::Value Install(const Napi::CallbackInfo& info) {
  Napi::Value argument = info[0];
  const jamjet_record* record = nullptr;
  if (argument.IsArrayBuffer()) {
    Napi::ArrayBuffer buffer = argument.As<Napi::ArrayBuffer>();
    if (buffer.ByteLength() != sizeof(jamjet_record)) {
      Napi::TypeError::New(info.Env(), "jamjet native: install() takes a record from encode()")
          .ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    record = static_cast<const jamjet_record*>(buffer.Data());
  }
  jamjet_thread_swap_record(record);
  return info.Env().Undefined();
}

Napi::Value SetProcessContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ContextStrings strings;
  if (!ReadContext(info, 0, strings)) return env.Undefined();
  jamjet_status status = jamjet_set_process_context(&strings.context);
  if (status != JAMJET_OK) ThrowStatus(env, status);
  return env.Undefined();
}

Napi::Value ClearProcessContext(const Napi::CallbackInfo& info) {
  jamjet_set_process_context(nullptr);
  return info.Env().Undefined();
}

uint16_t ReadU16(const unsigned char* bytes) { return static_cast<uint16_t>(bytes[0] | bytes[1] << 8); }

// Decodes the user id and email of a record, or returns null when the record is malformed.
Napi::Value DecodeIdentity(Napi::Env env, const unsigned char* record) {
  jj_record_header header;
  std::memcpy(&header, record, sizeof header);
  size_t end = JJ_RECORD_HEADER_BYTES + header.payload_bytes;
  if (header.magic != JJ_RECORD_MAGIC || end > JJ_RECORD_MAX_BYTES) return env.Null();
  size_t offset = JJ_RECORD_HEADER_BYTES;
  Napi::Object identity = Napi::Object::New(env);
  for (const char* field : {"userId", "email"}) {
    if (offset + 2 > end) return env.Null();
    size_t length = ReadU16(record + offset);
    offset += 2;
    if (offset + length > end) return env.Null();
    identity.Set(field, Napi::String::New(env, reinterpret_cast<const char*>(record + offset), length));
    offset += length;
  }
  return identity;
}

// Returns {userId, email} of the calling thread's current record as the agent would find it
// in the registry, or null when the thread has no registry slot or no record.
Napi::Value ThreadRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const jj_registry_header* registry = jamjet_registry();
  if (registry == nullptr) return env.Null();
  auto tid = static_cast<uint32_t>(syscall(SYS_gettid));
  const auto* slots = reinterpret_cast<const jj_thread_slot*>(
      reinterpret_cast<const unsigned char*>(registry) + registry->slots_offset);
  for (uint32_t i = 0; i < JJ_REGISTRY_SLOT_PROBES; ++i) {
    const jj_thread_slot& slot = slots[(tid + i) % registry->slot_count];
    if (slot.tid != tid) continue;
    if (slot.record == 0) return env.Null();
    return DecodeIdentity(env, reinterpret_cast<const unsigned char*>(slot.record));
  }
  return env.Null();
}

// Returns {userId, email} of the process record, or null when none is set.
Napi::Value ProcessRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const jj_registry_header* registry = jamjet_registry();
  if (registry == nullptr || registry->process_record_set == 0) return env.Null();
  return DecodeIdentity(env, registry->process_record);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("encode", Napi::Function::New(env, Encode, "encode"));
  exports.Set("install", Napi::Function::New(env, Install, "install"));
  exports.Set("setProcessContext", Napi::Function::New(env, SetProcessContext, "setProcessContext"));
  exports.Set("clearProcessContext", Napi::Function::New(env, ClearProcessContext, "clearProcessContext"));
  exports.Set("threadRecord", Napi::Function::New(env, ThreadRecord, "threadRecord"));
  exports.Set("processRecord", Napi::Function::New(env, ProcessRecord, "processRecord"));
  exports.Set("recordBytes", Napi::Number::New(env, sizeof(jamjet_record)));
  return exports;
}

}  // namespace

NODE_API_MODULE(jamjet_native, Init)
