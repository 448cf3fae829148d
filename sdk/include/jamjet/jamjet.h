/* JamJet SDK: names the end user behind the LLM API calls that a thread makes.
 *
 * The JamJet agent captures LLM API calls at SSL_write with eBPF uprobes. At
 * that moment its BPF program reads the calling thread's current user record
 * from a per-process shared-memory registry that this library writes
 * (see jamjet/registry_layout.h). An application sets the record around each
 * request:
 *
 *   jamjet_scope scope;
 *   jamjet_user_context user = {.user_id = "8d0c5b1e-..."};
 *   if (jamjet_scope_enter(&scope, &user) == JAMJET_OK) {
 *     call_the_llm();
 *     jamjet_scope_leave(&scope);
 *   }
 *
 * Limits, all checked by every function that takes a jamjet_user_context:
 * - user_id: required, 1..128 bytes (JJ_USER_ID_MAX_BYTES) of UTF-8.
 * - email: optional (NULL or "" for none), at most 254 bytes (JJ_EMAIL_MAX_BYTES)
 *   of UTF-8.
 * - attrs: at most 16 (JJ_ATTR_MAX_COUNT), keys unique.
 * - attribute key: 1..32 bytes (JJ_ATTR_KEY_MAX_BYTES) matching
 *   [A-Za-z_][A-Za-z0-9_.-]*.
 * - string value: at most 128 bytes (JJ_ATTR_STRING_MAX_BYTES) of UTF-8.
 * - number value: a finite double (no NaN, no infinity).
 * - bool value: any int, stored as 0 or 1.
 * - the encoded record: at most 1024 bytes (JJ_RECORD_MAX_BYTES) including an
 *   8-byte header, so large values can fail with JAMJET_ERR_RECORD_TOO_LARGE
 *   even when each one is within its own limit.
 * UTF-8 is validated strictly: overlong forms, surrogates (U+D800..U+DFFF) and
 * code points above U+10FFFF are rejected. Lengths are in bytes, without the
 * terminating NUL.
 *
 * Threads: the current record belongs to the calling thread. Scopes nest and
 * must be left in reverse order on the thread that entered them. The hot-path
 * functions (jamjet_scope_enter, jamjet_scope_leave, jamjet_thread_swap_record)
 * make no system call and take no lock, except on a thread's first call, which
 * claims the thread's registry slot. Attribution is best effort: when the
 * registry cannot be created or a thread finds no free slot, every function
 * still validates its input and returns its status, but that thread's calls
 * carry no user.
 *
 * Fork: the child gets its own registry with the forking thread's current
 * record. Link one copy of this library per process (either libjamjet.so or
 * libjamjet.a), because two copies would create two registries. */
#ifndef JAMJET_JAMJET_H_
#define JAMJET_JAMJET_H_

#include <stddef.h>
#include <stdint.h>

#include "jamjet/registry_layout.h"

#if defined(JAMJET_BUILDING_SDK)
#define JAMJET_EXPORT __attribute__((visibility("default")))
#else
#define JAMJET_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  JAMJET_OK = 0,
  JAMJET_ERR_NULL_ARGUMENT,     /* a required pointer argument or field is NULL */
  JAMJET_ERR_MISSING_USER_ID,   /* user_id is NULL or "" */
  JAMJET_ERR_VALUE_TOO_LONG,    /* a string or key is over its byte limit */
  JAMJET_ERR_TOO_MANY_ATTRS,    /* attr_count > JJ_ATTR_MAX_COUNT */
  JAMJET_ERR_INVALID_KEY,       /* a key is empty, not a plain name, or repeated */
  JAMJET_ERR_INVALID_UTF8,      /* a string is not valid UTF-8 */
  JAMJET_ERR_INVALID_ATTR_TYPE, /* an attribute type is not a jamjet_attr_type */
  JAMJET_ERR_SCOPE_MISMATCH,    /* a scope left out of order, or entered twice */
  JAMJET_ERR_RECORD_TOO_LARGE,  /* the encoded context exceeds JJ_RECORD_MAX_BYTES */
  JAMJET_ERR_INVALID_NUMBER,    /* a number attribute is NaN or infinite */
} jamjet_status;

/* Returns a static, lowercase name for the status, such as "value too long".
 * Returns "unknown status" for a value outside the enum. */
JAMJET_EXPORT const char* jamjet_status_string(jamjet_status status);

/* Returns the detail of the calling thread's most recent failed call, naming
 * the field, for example: attrs[2].key "9x" is not a plain name: it must match
 * [A-Za-z_][A-Za-z0-9_.-]*. Successful calls leave it unchanged. Returns ""
 * when no call on this thread has failed. The text stays valid until the next
 * failing call on the same thread. User values other than keys are never
 * copied into it. */
JAMJET_EXPORT const char* jamjet_last_error(void);

typedef enum {
  JAMJET_ATTR_STRING = JJ_ATTR_STRING,
  JAMJET_ATTR_NUMBER = JJ_ATTR_NUMBER,
  JAMJET_ATTR_BOOL = JJ_ATTR_BOOL,
} jamjet_attr_type;

typedef struct jamjet_attr {
  const char* key;
  jamjet_attr_type type;
  union {
    const char* string; /* JAMJET_ATTR_STRING, must not be NULL */
    double number;      /* JAMJET_ATTR_NUMBER */
    int boolean;        /* JAMJET_ATTR_BOOL, nonzero is true */
  } value;
} jamjet_attr;

typedef struct jamjet_user_context {
  const char* user_id;      /* required */
  const char* email;        /* NULL or "" for none */
  const jamjet_attr* attrs; /* may be NULL when attr_count is 0 */
  size_t attr_count;
} jamjet_user_context;

/* An encoded user context in the registry's record format. Its address is what
 * a thread slot points at, so a record must stay in place and unchanged while
 * any thread has it as its current record. */
typedef struct jamjet_record {
  unsigned char bytes[JJ_RECORD_MAX_BYTES];
} __attribute__((aligned(8))) jamjet_record;

/* Caller-owned storage for one entered scope, usually a local variable. Its
 * fields are private to the SDK. It must stay in place from
 * jamjet_scope_enter until the matching jamjet_scope_leave, or until the
 * thread exits. */
typedef struct jamjet_scope {
  jamjet_record record;
  const jamjet_record* previous;
} jamjet_scope;

/* Validates and encodes ctx into scope, then makes it the calling thread's
 * current record until jamjet_scope_leave. On an error nothing changes and the
 * thread keeps its current record. Returns JAMJET_ERR_SCOPE_MISMATCH if scope
 * is already the thread's current scope. Entering a scope that is open further
 * out on the stack of scopes is undefined. */
JAMJET_EXPORT jamjet_status jamjet_scope_enter(jamjet_scope* scope, const jamjet_user_context* ctx);

/* Restores the record that was current when scope was entered. Returns
 * JAMJET_ERR_SCOPE_MISMATCH, and changes nothing, unless scope is the calling
 * thread's innermost open scope. */
JAMJET_EXPORT jamjet_status jamjet_scope_leave(jamjet_scope* scope);

/* Sets the process-wide record, which the agent uses for threads that have no
 * current record of their own. NULL clears it. Validates ctx like
 * jamjet_scope_enter. Writers are serialised by a mutex and the registry
 * header's sequence counter is even again when this returns. Not for the hot
 * path: it takes a lock and copies the record. */
JAMJET_EXPORT jamjet_status jamjet_set_process_context(const jamjet_user_context* ctx);

/* Validates and encodes ctx into out, for language bindings that keep records
 * in their own async context objects. On an error out is unspecified. */
JAMJET_EXPORT jamjet_status jamjet_record_encode(const jamjet_user_context* ctx,
                                                 jamjet_record* out);

/* Sets the calling thread's current record (NULL for none) and returns the
 * previous one, for language bindings to call on every async context switch.
 * Checks only the record magic: a record with a wrong magic is not installed,
 * the thread is left with no current record, and jamjet_last_error explains.
 * The record must outlive its use as a current record. Mixing this with open
 * scopes on the same thread makes jamjet_scope_leave return
 * JAMJET_ERR_SCOPE_MISMATCH unless the previous record is restored first. */
JAMJET_EXPORT const jamjet_record* jamjet_thread_swap_record(const jamjet_record* record);

/* Returns the calling process's registry, or NULL when no API call has created
 * one yet or it could not be created. For diagnostics and tests: it never
 * creates the registry. */
JAMJET_EXPORT const struct jj_registry_header* jamjet_registry(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* JAMJET_JAMJET_H_ */
