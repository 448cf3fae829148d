/* Status names and the per-thread last-error text. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* Default TLS model on purpose: this buffer is touched only on errors, and
 * initial-exec space is scarce when the library is loaded with dlopen. */
static __thread char last_error[256];

const char* jamjet_status_string(jamjet_status status) {
  switch (status) {
    case JAMJET_OK:
      return "ok";
    case JAMJET_ERR_NULL_ARGUMENT:
      return "null argument";
    case JAMJET_ERR_MISSING_USER_ID:
      return "missing user id";
    case JAMJET_ERR_VALUE_TOO_LONG:
      return "value too long";
    case JAMJET_ERR_TOO_MANY_ATTRS:
      return "too many attributes";
    case JAMJET_ERR_INVALID_KEY:
      return "invalid attribute key";
    case JAMJET_ERR_INVALID_UTF8:
      return "invalid UTF-8";
    case JAMJET_ERR_INVALID_ATTR_TYPE:
      return "invalid attribute type";
    case JAMJET_ERR_SCOPE_MISMATCH:
      return "scope mismatch";
    case JAMJET_ERR_RECORD_TOO_LARGE:
      return "record too large";
    case JAMJET_ERR_INVALID_NUMBER:
      return "invalid number";
  }
  return "unknown status";
}

const char* jamjet_last_error(void) { return last_error; }

jamjet_status jj_sdk_fail(jamjet_status status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return status;
}
