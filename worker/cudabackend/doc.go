// Package cudabackend runs models on an NVIDIA GPU through libkubeinfer_cuda.so
// (built from cuda/ by `make -C cuda`), which it loads at run time with
// dlopen, so the worker binary links nothing from CUDA and one build runs on
// every node: where the library or a GPU is missing, Available says why and
// the worker can fall back to the CPU engine.
//
// The serving code needs three functions:
//
//   - Available(libPath) reports whether the library loads and sees a GPU,
//     with an error that says which of the two is missing and where it looked.
//   - Open(m, opts) loads the model's weights onto the GPU and returns the
//     engine.Backend; it refuses, before allocating most of the memory, a
//     model that does not fit ("model needs X MiB (...) but GPU0 has only W
//     MiB free").
//   - Select(m, device, opts) is the --device flag: "cpu", "cuda" (fail with
//     Available's or Open's error) or "auto" (CUDA when Available, otherwise
//     the CPU engine, with a note saying why).
//
// The library is looked up in this order: Options.LibPath (--cuda-lib), then
// $KUBEINFER_CUDA_LIB; an explicit path is the only candidate, so a typo is an
// error rather than a silent fallback. Without one: libkubeinfer_cuda.so next
// to the executable, then the plain name through the dynamic loader's usual
// paths (LD_LIBRARY_PATH, ld.so.cache).
//
// The cgo files include cuda/include/kubeinfer_cuda.h itself (it is part of
// the Go module), so the ABI has one definition.
package cudabackend
