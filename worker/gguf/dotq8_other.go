//go:build !amd64

package gguf

// hasAVX2 is false off amd64: the Go kernels are the only ones.
var hasAVX2 = false

func dotQ4_KQ8K(row []byte, x *Q8K) float32   { return dotQ4_KQ8KGo(row, x) }
func dotQ6_KQ8K(row []byte, x *Q8K) float32   { return dotQ6_KQ8KGo(row, x) }
func dotQ5_KQ8K(row []byte, x *Q8K) float32   { return dotQ5_KQ8KGo(row, x) }
func dotQ8_0Q8K(row []byte, x *Q8K) float32   { return dotQ8_0Q8KGo(row, x) }
func dotQ4_0Q8K(row []byte, x *Q8K) float32   { return dotQ4_0Q8KGo(row, x) }
func dotIQ4_NLQ8K(row []byte, x *Q8K) float32 { return dotIQ4_NLQ8KGo(row, x) }
func dotIQ4_XSQ8K(row []byte, x *Q8K) float32 { return dotIQ4_XSQ8KGo(row, x) }
func dotQ3_KQ8K(row []byte, x *Q8K) float32   { return dotQ3_KQ8KGo(row, x) }
func dotQ2_KQ8K(row []byte, x *Q8K) float32   { return dotQ2_KQ8KGo(row, x) }
func dotQ4_1Q8K(row []byte, x *Q8K) float32   { return dotQ4_1Q8KGo(row, x) }
func dotQ5_0Q8K(row []byte, x *Q8K) float32   { return dotQ5_0Q8KGo(row, x) }
func dotQ5_1Q8K(row []byte, x *Q8K) float32   { return dotQ5_1Q8KGo(row, x) }
