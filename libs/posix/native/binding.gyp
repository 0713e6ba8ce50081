{
  "targets": [
    {
      "target_name": "prose_posix",
      "sources": ["prose_posix.c", "sockio.c", "filemap.c", "recycle.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
