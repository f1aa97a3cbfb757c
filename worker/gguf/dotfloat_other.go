//go:build !amd64

package gguf

// Off amd64 floatVec is 0, so the float kernels are never called.

func dotF32AVX2(a, b *float32, n int) float32         { panic("gguf: no AVX2 float kernels here") }
func dotF16AVX2(row *byte, x *float32, n int) float32 { panic("gguf: no AVX2 float kernels here") }
func dotBF16AVX2(row *byte, x *float32, n int) float32 {
	panic("gguf: no AVX2 float kernels here")
}
func cvtF16AVX2(dst *float32, src *byte, n int)  { panic("gguf: no AVX2 float kernels here") }
func cvtBF16AVX2(dst *float32, src *byte, n int) { panic("gguf: no AVX2 float kernels here") }
