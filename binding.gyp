{
  "targets": [
    {
      "target_name": "splice_link",
      "sources": ["src/tap/native/splice-link.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["src/tap/native/splice-link.c"]}]]
    },
    {
      "target_name": "file_pages",
      "sources": ["src/stream/native/file-pages.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["src/stream/native/file-pages.c"]}]]
    }
  ]
}
