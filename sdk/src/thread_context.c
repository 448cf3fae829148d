/* The hot path: scopes and record swaps on the calling thread's slot. After a
 * thread's first call these make no system call, take no lock and allocate
 * nothing. */
#include "internal.h"

static inline struct jj_thread_slot* thread_slot(void) {
  struct jj_thread_slot* slot = jj_sdk_thread_slot;
  if (JJ_SDK_UNLIKELY(slot == NULL)) slot = jj_sdk_claim_thread_slot();
  return slot;
}

jamjet_status jamjet_scope_enter(jamjet_scope* scope, const jamjet_user_context* ctx) {
  if (scope == NULL) return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "scope is NULL");
  struct jj_thread_slot* slot = thread_slot();
  const jamjet_record* current = jj_sdk_current_record(slot);
  if (JJ_SDK_UNLIKELY(current == &scope->record)) {
    return jj_sdk_fail(JAMJET_ERR_SCOPE_MISMATCH,
                       "the scope is already entered on this thread: leave it before reusing it");
  }
  jamjet_status status = jj_sdk_encode(ctx, &scope->record);
  if (status != JAMJET_OK) return status;
  scope->previous = current;
  jj_sdk_publish_record(slot, &scope->record);
  return JAMJET_OK;
}

jamjet_status jamjet_scope_leave(jamjet_scope* scope) {
  if (scope == NULL) return jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT, "scope is NULL");
  struct jj_thread_slot* slot = jj_sdk_thread_slot;
  if (JJ_SDK_UNLIKELY(slot == NULL || jj_sdk_current_record(slot) != &scope->record)) {
    return jj_sdk_fail(JAMJET_ERR_SCOPE_MISMATCH,
                       "the scope is not the innermost open scope on this thread: leave scopes "
                       "in reverse order of entering, on the thread that entered them");
  }
  jj_sdk_publish_record(slot, scope->previous);
  scope->previous = NULL;
  return JAMJET_OK;
}

const jamjet_record* jamjet_thread_swap_record(const jamjet_record* record) {
  struct jj_thread_slot* slot = jj_sdk_thread_slot;
  if (JJ_SDK_UNLIKELY(slot == NULL)) {
    /* Clearing on a thread that never had a record needs no slot. */
    if (record == NULL) return NULL;
    slot = jj_sdk_claim_thread_slot();
  }
  if (JJ_SDK_UNLIKELY(record != NULL && jj_sdk_record_magic(record) != JJ_RECORD_MAGIC)) {
    jj_sdk_fail(JAMJET_ERR_NULL_ARGUMENT,
                "jamjet_thread_swap_record: the record has no record magic, so the thread now "
                "has no current record: pass records filled by jamjet_record_encode");
    record = NULL;
  }
  const jamjet_record* previous = jj_sdk_current_record(slot);
  jj_sdk_publish_record(slot, record);
  return previous;
}
