{
  "targets": [
    {
      "target_name": "prose_shm",
      "sources": ["prose_shm.cc"],
      "cflags_cc": ["-std=gnu++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
