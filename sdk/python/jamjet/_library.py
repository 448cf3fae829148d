"""ctypes declarations of the JamJet C SDK (libjamjet.so.0) and the loader that finds it.

The library is searched, in order:
  1. the path in the JAMJET_SDK_LIB environment variable (no fallback when it is set),
  2. libjamjet.so.0 next to this file (a wheel or a copy made at install time),
  3. the system's dynamic loader (LD_LIBRARY_PATH, the ld.so cache, /usr/lib...).
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

LIBRARY_NAME = "libjamjet.so.0"
ENVIRONMENT_VARIABLE = "JAMJET_SDK_LIB"

# From jamjet/registry_layout.h and jamjet/jamjet.h.
RECORD_BYTES = 1024
ATTR_STRING = 1
ATTR_NUMBER = 2
ATTR_BOOL = 3

# jamjet_status values, from jamjet/jamjet.h.
STATUS_NAMES = {
    0: "JAMJET_OK",
    1: "JAMJET_ERR_NULL_ARGUMENT",
    2: "JAMJET_ERR_MISSING_USER_ID",
    3: "JAMJET_ERR_VALUE_TOO_LONG",
    4: "JAMJET_ERR_TOO_MANY_ATTRS",
    5: "JAMJET_ERR_INVALID_KEY",
    6: "JAMJET_ERR_INVALID_UTF8",
    7: "JAMJET_ERR_INVALID_ATTR_TYPE",
    8: "JAMJET_ERR_SCOPE_MISMATCH",
    9: "JAMJET_ERR_RECORD_TOO_LARGE",
    10: "JAMJET_ERR_INVALID_NUMBER",
}


class LibraryNotFoundError(OSError):
    """libjamjet.so.0 could not be loaded from any of the searched places."""


class AttrValue(ctypes.Union):
    _fields_ = [("string", ctypes.c_char_p), ("number", ctypes.c_double), ("boolean", ctypes.c_int)]


class Attr(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("type", ctypes.c_int), ("value", AttrValue)]


class UserContextStruct(ctypes.Structure):
    _fields_ = [
        ("user_id", ctypes.c_char_p),
        ("email", ctypes.c_char_p),
        ("attrs", ctypes.POINTER(Attr)),
        ("attr_count", ctypes.c_size_t),
    ]


# jamjet_record: 1024 bytes, 8-byte aligned (an array of uint64 has that alignment).
Record = ctypes.c_uint64 * (RECORD_BYTES // 8)


def _candidates() -> list[str]:
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        return [configured]
    return [str(Path(__file__).resolve().parent / LIBRARY_NAME), LIBRARY_NAME]


def _declare(library: ctypes.PyDLL) -> None:
    library.jamjet_record_encode.argtypes = [ctypes.POINTER(UserContextStruct), ctypes.c_void_p]
    library.jamjet_record_encode.restype = ctypes.c_int
    library.jamjet_set_process_context.argtypes = [ctypes.POINTER(UserContextStruct)]
    library.jamjet_set_process_context.restype = ctypes.c_int
    library.jamjet_thread_swap_record.argtypes = [ctypes.c_void_p]
    library.jamjet_thread_swap_record.restype = ctypes.c_void_p
    library.jamjet_last_error.argtypes = []
    library.jamjet_last_error.restype = ctypes.c_char_p
    library.jamjet_registry.argtypes = []
    library.jamjet_registry.restype = ctypes.c_void_p


_library: ctypes.PyDLL | None = None
_library_lock = threading.Lock()


def library() -> ctypes.PyDLL:
    """Load libjamjet.so.0 on first use and return it. Raises LibraryNotFoundError."""
    global _library
    if _library is not None:
        return _library
    with _library_lock:
        if _library is None:
            errors = []
            for candidate in _candidates():
                if os.sep in candidate and not os.path.exists(candidate):
                    errors.append(f"{candidate}: no such file")
                    continue
                try:
                    # PyDLL keeps the GIL during calls: these functions take well under a
                    # microsecond, less than releasing and taking back the GIL would cost.
                    loaded = ctypes.PyDLL(candidate)
                except OSError as error:
                    errors.append(str(error))
                    continue
                _declare(loaded)
                _library = loaded
                break
            else:
                raise LibraryNotFoundError(
                    f"cannot load {LIBRARY_NAME} ({'; '.join(errors)}): build it with "
                    f"'cmake --build build --target jamjet_sdk' and set {ENVIRONMENT_VARIABLE} to its path, "
                    "or install the C SDK"
                )
    return _library
