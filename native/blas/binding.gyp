{
  "targets": [
    {
      "target_name": "cmi_blas",
      "sources": ["blas.c", "pool.c", "train.c", "train_api.c", "gru.c", "retrieve.c", "adam.c", "norm.c", "dropout.c", "napi_util.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-lopenblas", "-lpthread", "-lm"],
      "cflags": ["-O3", "-fopenmp-simd"]
    }
  ]
}
