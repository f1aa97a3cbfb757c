package gguf

// The float kernels of dotfloat_amd64.s; n is a multiple of 32 (floatVec).

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(row *byte, x *float32, n int) float32

//go:noescape
func dotBF16AVX2(row *byte, x *float32, n int) float32

//go:noescape
func cvtF16AVX2(dst *float32, src *byte, n int)

//go:noescape
func cvtBF16AVX2(dst *float32, src *byte, n int)
