package gguf

import "golang.org/x/sys/cpu"

// hasAVX2 picks the AVX2 kernels (dotq8_amd64.s), which use FMA too; a variable so that tests run the Go
// ones as well.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dotQ4KAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks int) float32

//go:noescape
func dotQ6KAVX2(row *byte, x *int8, d *float32, blocks int) float32

func dotQ4_KQ8K(row []byte, x *Q8K) float32 {
	return dotScaleMin(row, x, 144, dotQ4KAVX2, dotQ4_KQ8KGo)
}

// dotScaleMin runs the AVX2 kernel of a Q4_K or Q5_K row (blocks of blockBytes), or the Go one without AVX2.
func dotScaleMin(row []byte, x *Q8K, blockBytes int, avx2 func(*byte, *int8, *float32, *int32, int) float32,
	fallback func([]byte, *Q8K) float32) float32 {
	n := len(x.D)
	if !hasAVX2 || n == 0 {
		return fallback(row, x)
	}
	_, _, _ = row[n*blockBytes-1], x.Q[n*qkK-1], x.Sum32[8*n-1]
	return avx2(&row[0], &x.Q[0], &x.D[0], &x.Sum32[0], n)
}

func dotQ6_KQ8K(row []byte, x *Q8K) float32 {
	n := len(x.D)
	if !hasAVX2 || n == 0 {
		return dotQ6_KQ8KGo(row, x)
	}
	_, _ = row[n*210-1], x.Q[n*qkK-1]
	return dotQ6KAVX2(&row[0], &x.Q[0], &x.D[0], n)
}

//go:noescape
func dotQ5KAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks int) float32

//go:noescape
func dotQ80AVX2(row *byte, x *int8, d *float32, blocks int) float32

func dotQ5_KQ8K(row []byte, x *Q8K) float32 {
	return dotScaleMin(row, x, 176, dotQ5KAVX2, dotQ5_KQ8KGo)
}

func dotQ8_0Q8K(row []byte, x *Q8K) float32 {
	n := len(x.Q) / 32
	if !hasAVX2 || n == 0 {
		return dotQ8_0Q8KGo(row, x)
	}
	_, _, _ = row[n*34-1], x.Q[n*32-1], x.D[(n-1)/8]
	return dotQ80AVX2(&row[0], &x.Q[0], &x.D[0], n)
}

//go:noescape
func dotIQ4NLAVX2(row *byte, x *int8, d *float32, blocks int) float32

//go:noescape
func dotIQ4XSAVX2(row *byte, x *int8, d *float32, blocks int) float32

func dotIQ4_NLQ8K(row []byte, x *Q8K) float32 {
	n := len(x.Q) / 32
	if !hasAVX2 || n == 0 {
		return dotIQ4_NLQ8KGo(row, x)
	}
	_, _, _ = row[n*18-1], x.Q[n*32-1], x.D[(n-1)/8]
	return dotIQ4NLAVX2(&row[0], &x.Q[0], &x.D[0], n)
}

func dotIQ4_XSQ8K(row []byte, x *Q8K) float32 {
	n := len(x.D)
	if !hasAVX2 || n == 0 {
		return dotIQ4_XSQ8KGo(row, x)
	}
	_, _ = row[n*136-1], x.Q[n*qkK-1]
	return dotIQ4XSAVX2(&row[0], &x.Q[0], &x.D[0], n)
}

//go:noescape
func dotQ3KAVX2(row *byte, x *int8, d *float32, blocks int) float32

func dotQ3_KQ8K(row []byte, x *Q8K) float32 {
	n := len(x.D)
	if !hasAVX2 || n == 0 {
		return dotQ3_KQ8KGo(row, x)
	}
	_, _ = row[n*110-1], x.Q[n*qkK-1]
	return dotQ3KAVX2(&row[0], &x.Q[0], &x.D[0], n)
}

//go:noescape
func dotQ2KAVX2(row *byte, x *int8, d *float32, sum16 *int32, blocks int) float32

func dotQ2_KQ8K(row []byte, x *Q8K) float32 {
	n := len(x.D)
	if !hasAVX2 || n == 0 {
		return dotQ2_KQ8KGo(row, x)
	}
	_, _, _ = row[n*84-1], x.Q[n*qkK-1], x.Sum16[16*n-1]
	return dotQ2KAVX2(&row[0], &x.Q[0], &x.D[0], &x.Sum16[0], n)
}

//go:noescape
func dotLegacyAVX2(row *byte, x *int8, d *float32, sum32 *int32, blocks, blockBytes, qsOff, qhOff, off, withMin int) float32

// dotLegacy runs the AVX2 kernel of a Q4_0, Q4_1, Q5_0 or Q5_1 row (laid out as dotLegacyQ8KGo says), or the Go
// one.
func dotLegacy(row []byte, x *Q8K, blockBytes, qsOff, qhOff, off int, withMin bool, fallback func([]byte, *Q8K) float32) float32 {
	n := len(x.Q) / 32
	if !hasAVX2 || n == 0 {
		return fallback(row, x)
	}
	_, _, _, _ = row[n*blockBytes-1], x.Q[n*32-1], x.D[(n-1)/8], x.Sum32[n-1]
	m := 0
	if withMin {
		m = 1
	}
	return dotLegacyAVX2(&row[0], &x.Q[0], &x.D[0], &x.Sum32[0], n, blockBytes, qsOff, qhOff, off, m)
}

func dotQ4_0Q8K(row []byte, x *Q8K) float32 {
	return dotLegacy(row, x, 18, 2, 0, 8, false, dotQ4_0Q8KGo)
}
func dotQ4_1Q8K(row []byte, x *Q8K) float32 {
	return dotLegacy(row, x, 20, 4, 0, 0, true, dotQ4_1Q8KGo)
}
func dotQ5_0Q8K(row []byte, x *Q8K) float32 {
	return dotLegacy(row, x, 22, 6, 2, 16, false, dotQ5_0Q8KGo)
}
func dotQ5_1Q8K(row []byte, x *Q8K) float32 {
	return dotLegacy(row, x, 24, 8, 4, 0, true, dotQ5_1Q8KGo)
}
