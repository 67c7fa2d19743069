# The project's own N-API addon: system calls Node does not expose (src/native/syscalls.ts loads it).
# Built by `npm run build` into native/build/Release/syscalls.node; installed beside the bundle.
{
  "targets": [
    {
      "target_name": "syscalls",
      "sources": ["syscalls.c"],
      # N-API 8 (Node >= 12.22): one binary serves every Node the engines field allows.
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "-std=gnu11"]
    }
  ]
}
