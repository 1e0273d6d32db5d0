{
  "targets": [
    {
      "target_name": "cmi_blas",
      "sources": ["blas.c", "retrieve.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags": ["-O2"]
    }
  ]
}
