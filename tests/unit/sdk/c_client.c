/* A C program that uses the SDK the way an application does. The static-link and pkg-config
 * tests build it and run it; it exits with 0 when every check passes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jamjet/jamjet.h>

static int failures;

static void check(int condition, const char* description) {
  if (!condition) {
    fprintf(stderr, "c_client: check failed: %s (last error: %s)\n", description,
            jamjet_last_error());
    failures++;
  }
}

static const struct jj_thread_slot* find_slot(const struct jj_registry_header* header) {
  const struct jj_thread_slot* slots =
      (const struct jj_thread_slot*)((const unsigned char*)header + header->slots_offset);
  __u32 tid = (__u32)gettid();
  for (__u32 i = 0; i < JJ_REGISTRY_SLOT_PROBES; i++) {
    const struct jj_thread_slot* slot = &slots[(tid + i) % header->slot_count];
    if (slot->tid == tid) return slot;
  }
  return NULL;
}

int main(void) {
  check(jamjet_registry() == NULL, "no registry before the first call");

  jamjet_attr attrs[3];
  attrs[0].key = "plan";
  attrs[0].type = JAMJET_ATTR_STRING;
  attrs[0].value.string = "pro";
  attrs[1].key = "seats";
  attrs[1].type = JAMJET_ATTR_NUMBER;
  attrs[1].value.number = 12;
  attrs[2].key = "trial";
  attrs[2].type = JAMJET_ATTR_BOOL;
  attrs[2].value.boolean = 0;
  jamjet_user_context user = {"c-client-user", "c@example.com", attrs, 3};

  jamjet_scope scope;
  check(jamjet_scope_enter(&scope, &user) == JAMJET_OK, "scope enter");
  const struct jj_registry_header* header = jamjet_registry();
  check(header != NULL, "registry created");
  if (header != NULL) {
    check(header->magic == JJ_REGISTRY_MAGIC, "registry magic");
    check(header->pid == (__u32)getpid(), "registry pid");
    const struct jj_thread_slot* slot = find_slot(header);
    check(slot != NULL, "thread slot claimed");
    check(slot != NULL && slot->record == (__u64)(uintptr_t)&scope.record, "slot points at scope");
  }
  check(jamjet_scope_leave(&scope) == JAMJET_OK, "scope leave");
  check(jamjet_scope_leave(&scope) == JAMJET_ERR_SCOPE_MISMATCH, "second leave is a mismatch");

  attrs[0].key = "9x";
  check(jamjet_scope_enter(&scope, &user) == JAMJET_ERR_INVALID_KEY, "invalid key rejected");
  check(strstr(jamjet_last_error(), "attrs[0].key \"9x\"") != NULL, "error names the key");

  if (failures == 0) printf("c_client: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
