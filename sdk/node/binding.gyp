{
  "variables": {
    "jamjet_sdk_dir": "<!(node scripts/sdk-dir.js)"
  },
  "targets": [
    {
      "target_name": "jamjet_native",
      "sources": [
        "src/addon.cc",
        "<(jamjet_sdk_dir)/src/record_encode.c",
        "<(jamjet_sdk_dir)/src/registry.c",
        "<(jamjet_sdk_dir)/src/status.c",
        "<(jamjet_sdk_dir)/src/thread_context.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(jamjet_sdk_dir)/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-fvisibility=hidden", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-Wno-unused-parameter"],
      "ldflags": ["-pthread"]
    }
  ]
}
