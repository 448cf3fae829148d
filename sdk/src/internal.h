/* Declarations shared by the SDK's source files. Nothing here is exported. */
#ifndef JAMJET_SDK_INTERNAL_H_
#define JAMJET_SDK_INTERNAL_H_

#include <stdint.h>

#include "jamjet/jamjet.h"
#include "jamjet/registry_layout.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the registry and record formats are little-endian and this SDK writes them in host order"
#endif

#define JJ_SDK_HIDDEN __attribute__((visibility("hidden")))
#define JJ_SDK_LIKELY(x) __builtin_expect(!!(x), 1)
#define JJ_SDK_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The calling thread's slot: NULL before its first call, a slot in the
 * registry, or a thread-local stand-in when the thread has no registry slot.
 * initial-exec keeps the hot path free of __tls_get_addr calls. */
extern __thread struct jj_thread_slot* jj_sdk_thread_slot __attribute__((tls_model("initial-exec")))
JJ_SDK_HIDDEN;

/* Claims a slot for the calling thread, creating the registry on first use,
 * and stores it in jj_sdk_thread_slot. Never returns NULL. */
JJ_SDK_HIDDEN struct jj_thread_slot* jj_sdk_claim_thread_slot(void);

/* Validates ctx and encodes it into out. On an error, sets the thread's last
 * error and leaves out unspecified. */
JJ_SDK_HIDDEN jamjet_status jj_sdk_encode(const jamjet_user_context* ctx, jamjet_record* out);

/* Formats the thread's last error and returns status. */
JJ_SDK_HIDDEN jamjet_status jj_sdk_fail(jamjet_status status, const char* format, ...)
    __attribute__((format(printf, 2, 3), cold));

static inline uint32_t jj_sdk_record_magic(const jamjet_record* record) {
  uint32_t magic;
  __builtin_memcpy(&magic, record->bytes, sizeof magic);
  return magic;
}

/* Publishes the thread's current record. The BPF program reads the slot on
 * this same thread, so the release store only has to keep the compiler from
 * moving the record's encoding after it. */
static inline void jj_sdk_publish_record(struct jj_thread_slot* slot, const jamjet_record* record) {
  __atomic_store_n(&slot->record, (__u64)(uintptr_t)record, __ATOMIC_RELEASE);
}

static inline const jamjet_record* jj_sdk_current_record(const struct jj_thread_slot* slot) {
  return (const jamjet_record*)(uintptr_t)__atomic_load_n(&slot->record, __ATOMIC_RELAXED);
}

#endif /* JAMJET_SDK_INTERNAL_H_ */
