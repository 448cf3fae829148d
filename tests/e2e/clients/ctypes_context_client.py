"""Make OpenAI calls with urllib inside a user scope set through the C SDK with ctypes.

Usage: ctypes_context_client.py SDK_LIB BASE_URL CACERT API_KEY COUNT
Prints one JSON object: {"pid": ..., "thread_id": ..., "response_ids": [...]}.
"""

import ctypes
import json
import os
import ssl
import sys
import threading
import urllib.request

ATTR_STRING, ATTR_NUMBER, ATTR_BOOL = 1, 2, 3
RECORD_BYTES = 1024


class AttrValue(ctypes.Union):
    _fields_ = [("string", ctypes.c_char_p), ("number", ctypes.c_double), ("boolean", ctypes.c_int)]


class Attr(ctypes.Structure):
    _fields_ = [("key", ctypes.c_char_p), ("type", ctypes.c_int), ("value", AttrValue)]


class UserContext(ctypes.Structure):
    _fields_ = [
        ("user_id", ctypes.c_char_p),
        ("email", ctypes.c_char_p),
        ("attrs", ctypes.POINTER(Attr)),
        ("attr_count", ctypes.c_size_t),
    ]


class Scope(ctypes.Structure):
    # jamjet_scope: the encoded record, then the previous record pointer.
    _fields_ = [("record", ctypes.c_ubyte * RECORD_BYTES), ("previous", ctypes.c_void_p)]


def main() -> None:
    sdk_path, base_url, cacert, api_key, count = sys.argv[1:6]
    sdk = ctypes.CDLL(sdk_path)
    sdk.jamjet_scope_enter.argtypes = [ctypes.POINTER(Scope), ctypes.POINTER(UserContext)]
    sdk.jamjet_scope_leave.argtypes = [ctypes.POINTER(Scope)]

    attrs = (Attr * 3)()
    attrs[0].key, attrs[0].type, attrs[0].value.string = b"plan", ATTR_STRING, b"enterprise"
    attrs[1].key, attrs[1].type, attrs[1].value.number = b"seats", ATTR_NUMBER, 42.0
    attrs[2].key, attrs[2].type, attrs[2].value.boolean = b"trial", ATTR_BOOL, 0
    context = UserContext(b"user-otlp-7", b"otlp@example.com", attrs, 3)
    scope = Scope()
    status = sdk.jamjet_scope_enter(ctypes.byref(scope), ctypes.byref(context))
    if status != 0:
        raise SystemExit(f"jamjet_scope_enter failed with status {status}")

    tls = ssl.create_default_context(cafile=cacert)
    ids = []
    for i in range(int(count)):
        body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"call {i}"}]})
        request = urllib.request.Request(
            base_url + "/chat/completions",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        )
        with urllib.request.urlopen(request, context=tls, timeout=30) as response:
            ids.append(json.loads(response.read())["id"])
    sdk.jamjet_scope_leave(ctypes.byref(scope))
    print(json.dumps({"pid": os.getpid(), "thread_id": threading.get_native_id(), "response_ids": ids}))


if __name__ == "__main__":
    main()
