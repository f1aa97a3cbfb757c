// Package gguf reads and writes GGUF files, the container format llama.cpp
// uses for model weights and metadata.
//
// The reader memory-maps the file and hands out tensor data as sub-slices of
// the mapping, so opening a multi-gigabyte model costs only the header. It
// treats every file as hostile: each count and length is checked against the
// bytes that remain before anything is allocated, so a truncated or crafted
// file yields an error naming the byte offset and field, never a panic or an
// unbounded allocation.
package gguf

import (
	"fmt"
	"strings"
)

// GGMLType is a ggml tensor element type as stored in a tensor info.
type GGMLType uint32

// The values are ggml's enum ggml_type; gaps are types ggml removed.
const (
	TypeF32     GGMLType = 0
	TypeF16     GGMLType = 1
	TypeQ4_0    GGMLType = 2
	TypeQ4_1    GGMLType = 3
	TypeQ5_0    GGMLType = 6
	TypeQ5_1    GGMLType = 7
	TypeQ8_0    GGMLType = 8
	TypeQ8_1    GGMLType = 9
	TypeQ2_K    GGMLType = 10
	TypeQ3_K    GGMLType = 11
	TypeQ4_K    GGMLType = 12
	TypeQ5_K    GGMLType = 13
	TypeQ6_K    GGMLType = 14
	TypeQ8_K    GGMLType = 15
	TypeIQ2_XXS GGMLType = 16
	TypeIQ2_XS  GGMLType = 17
	TypeIQ3_XXS GGMLType = 18
	TypeIQ1_S   GGMLType = 19
	TypeIQ4_NL  GGMLType = 20
	TypeIQ3_S   GGMLType = 21
	TypeIQ2_S   GGMLType = 22
	TypeIQ4_XS  GGMLType = 23
	TypeI8      GGMLType = 24
	TypeI16     GGMLType = 25
	TypeI32     GGMLType = 26
	TypeI64     GGMLType = 27
	TypeF64     GGMLType = 28
	TypeIQ1_M   GGMLType = 29
	TypeBF16    GGMLType = 30
	TypeTQ1_0   GGMLType = 34
	TypeTQ2_0   GGMLType = 35
	TypeMXFP4   GGMLType = 39
)

// typeTraits is everything the worker knows about one ggml type, in one row
// (ggml's type_traits pattern): how elements pack into blocks, and the
// functions that decode, encode and compute with them. Sizes are known for
// every type ggml defines, so the reader can bounds-check and list files it
// cannot compute with; a type is supported when its row has a decoder and a
// dot product.
type typeTraits struct {
	name       string
	blockSize  uint64 // elements per block
	blockBytes uint64 // encoded bytes per block

	// dequantize decodes whole blocks: src holds len(dst)/blockSize blocks.
	// It matches ggml's to_float bit for bit.
	dequantize func(dst []float32, src []byte)
	// dot is the dot product of one row of whole blocks with x, which holds
	// as many elements as the row, and sums, the sums of each 16 elements of
	// x (SumsOf16): the CPU engine's kernel for a matrix stored in this type.
	// Types whose values are d*q - m or d*(q - offset) take the m and offset
	// terms from sums once per sub-block instead of per element. It need not
	// round like dequantize-then-dot.
	dot func(row []byte, x, sums []float32) float32
	// quantize encodes whole blocks (len(src) a multiple of blockSize) into
	// dst exactly as ggml_quantize_chunk does without an importance matrix,
	// which is what llama-quantize writes; nil when the worker has no encoder.
	quantize func(dst []byte, src []float32)
}

// traits is indexed by GGMLType; rows without a name are types ggml removed.
var traits = [...]typeTraits{
	TypeF32:     {name: "F32", blockSize: 1, blockBytes: 4, dequantize: dequantF32, dot: dotF32, quantize: quantF32},
	TypeF16:     {name: "F16", blockSize: 1, blockBytes: 2, dequantize: dequantF16, dot: dotF16, quantize: quantF16},
	TypeQ4_0:    {name: "Q4_0", blockSize: 32, blockBytes: 18, dequantize: dequantQ4_0, dot: dotQ4_0, quantize: quantQ4_0},
	TypeQ4_1:    {name: "Q4_1", blockSize: 32, blockBytes: 20, dequantize: dequantQ4_1, dot: dotQ4_1, quantize: quantQ4_1},
	TypeQ5_0:    {name: "Q5_0", blockSize: 32, blockBytes: 22, dequantize: dequantQ5_0, dot: dotQ5_0, quantize: quantQ5_0},
	TypeQ5_1:    {name: "Q5_1", blockSize: 32, blockBytes: 24, dequantize: dequantQ5_1, dot: dotQ5_1, quantize: quantQ5_1},
	TypeQ8_0:    {name: "Q8_0", blockSize: 32, blockBytes: 34, dequantize: dequantQ8_0, dot: dotQ8_0, quantize: quantQ8_0},
	TypeQ8_1:    {name: "Q8_1", blockSize: 32, blockBytes: 36},
	TypeQ2_K:    {name: "Q2_K", blockSize: 256, blockBytes: 84, dequantize: dequantQ2_K, dot: dotQ2_K, quantize: quantQ2_K},
	TypeQ3_K:    {name: "Q3_K", blockSize: 256, blockBytes: 110, dequantize: dequantQ3_K, dot: dotQ3_K, quantize: quantQ3_K},
	TypeQ4_K:    {name: "Q4_K", blockSize: 256, blockBytes: 144, dequantize: dequantQ4_K, dot: dotQ4_K, quantize: quantQ4_K},
	TypeQ5_K:    {name: "Q5_K", blockSize: 256, blockBytes: 176, dequantize: dequantQ5_K, dot: dotQ5_K, quantize: quantQ5_K},
	TypeQ6_K:    {name: "Q6_K", blockSize: 256, blockBytes: 210, dequantize: dequantQ6_K, dot: dotQ6_K, quantize: quantQ6_K},
	TypeQ8_K:    {name: "Q8_K", blockSize: 256, blockBytes: 292},
	TypeIQ2_XXS: {name: "IQ2_XXS", blockSize: 256, blockBytes: 66},
	TypeIQ2_XS:  {name: "IQ2_XS", blockSize: 256, blockBytes: 74},
	TypeIQ3_XXS: {name: "IQ3_XXS", blockSize: 256, blockBytes: 98},
	TypeIQ1_S:   {name: "IQ1_S", blockSize: 256, blockBytes: 50},
	TypeIQ4_NL:  {name: "IQ4_NL", blockSize: 32, blockBytes: 18, dequantize: dequantIQ4_NL, dot: dotIQ4_NL, quantize: quantIQ4_NL},
	TypeIQ3_S:   {name: "IQ3_S", blockSize: 256, blockBytes: 110},
	TypeIQ2_S:   {name: "IQ2_S", blockSize: 256, blockBytes: 82},
	TypeIQ4_XS:  {name: "IQ4_XS", blockSize: 256, blockBytes: 136, dequantize: dequantIQ4_XS, dot: dotIQ4_XS, quantize: quantIQ4_XS},
	TypeI8:      {name: "I8", blockSize: 1, blockBytes: 1},
	TypeI16:     {name: "I16", blockSize: 1, blockBytes: 2},
	TypeI32:     {name: "I32", blockSize: 1, blockBytes: 4},
	TypeI64:     {name: "I64", blockSize: 1, blockBytes: 8},
	TypeF64:     {name: "F64", blockSize: 1, blockBytes: 8},
	TypeIQ1_M:   {name: "IQ1_M", blockSize: 256, blockBytes: 56},
	TypeBF16:    {name: "BF16", blockSize: 1, blockBytes: 2, dequantize: dequantBF16, dot: dotBF16, quantize: quantBF16},
	TypeTQ1_0:   {name: "TQ1_0", blockSize: 256, blockBytes: 54},
	TypeTQ2_0:   {name: "TQ2_0", blockSize: 256, blockBytes: 66},
	TypeMXFP4:   {name: "MXFP4", blockSize: 32, blockBytes: 17},
}

// row returns the type's traits, or nil for a value ggml does not define.
func (t GGMLType) row() *typeTraits {
	if uint64(t) >= uint64(len(traits)) || traits[t].name == "" {
		return nil
	}
	return &traits[t]
}

// String returns ggml's name for the type, e.g. "Q4_K".
func (t GGMLType) String() string {
	if tr := t.row(); tr != nil {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether the type is one ggml defines.
func (t GGMLType) Known() bool { return t.row() != nil }

// BlockSize is the number of elements per quantization block (1 for plain
// types); 0 for unknown types.
func (t GGMLType) BlockSize() uint64 {
	if tr := t.row(); tr != nil {
		return tr.blockSize
	}
	return 0
}

// BlockBytes is the encoded size of one block; 0 for unknown types.
func (t GGMLType) BlockBytes() uint64 {
	if tr := t.row(); tr != nil {
		return tr.blockBytes
	}
	return 0
}

// Supported reports whether the worker can run a model with tensors of this
// type: its row has a decoder and a dot product.
func (t GGMLType) Supported() bool {
	tr := t.row()
	return tr != nil && tr.dequantize != nil && tr.dot != nil
}

// Quantizable reports whether the worker can encode float32 values as this type
// (bit for bit as llama-quantize without an importance matrix).
func (t GGMLType) Quantizable() bool {
	tr := t.row()
	return tr != nil && tr.quantize != nil
}

// SupportedTypes lists the supported types in ggml's enum order.
func SupportedTypes() []GGMLType {
	var out []GGMLType
	for t := range traits {
		if GGMLType(t).Supported() {
			out = append(out, GGMLType(t))
		}
	}
	return out
}

// SupportedTypeNames is SupportedTypes as "F32, F16, Q4_0, ...", for messages.
func SupportedTypeNames() string {
	names := make([]string, 0, len(traits))
	for _, t := range SupportedTypes() {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// UnsupportedTypeError is a tensor whose type the worker cannot compute with.
type UnsupportedTypeError struct {
	Tensor string
	Type   GGMLType
}

func (e *UnsupportedTypeError) Error() string {
	return fmt.Sprintf("tensor %s has type %s, which this worker does not support (supported: %s)",
		e.Tensor, e.Type, SupportedTypeNames())
}

// CheckSupported returns an *UnsupportedTypeError when the worker cannot
// compute with the tensor's type.
func (t TensorInfo) CheckSupported() error {
	if !t.Type.Supported() {
		return &UnsupportedTypeError{Tensor: t.Name, Type: t.Type}
	}
	return nil
}

// Kernels are a supported type's decoder and dot product, for a backend to
// keep per matrix instead of looking the type up per row.
type Kernels struct {
	// Dequantize decodes whole blocks: src holds len(dst)/BlockSize blocks.
	Dequantize func(dst []float32, src []byte)
	// Dot is the dot product of one row of whole blocks with x (as many
	// elements as the row); sums are x's sums of 16 (SumsOf16).
	Dot func(row []byte, x, sums []float32) float32
	// DotQ8, when the type has it (every block format: Q2_K to Q6_K, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL,
	// IQ4_XS), is the dot product of one row with activations rounded to int8 (QuantizeQ8K), in integer
	// arithmetic.
	DotQ8 func(row []byte, x *Q8K) float32
}

// Kernels returns the type's decoder and dot product; ok is false when the
// type is not supported.
func (t GGMLType) Kernels() (k Kernels, ok bool) {
	if !t.Supported() {
		return Kernels{}, false
	}
	tr := t.row()
	k = Kernels{Dequantize: tr.dequantize, Dot: tr.dot}
	switch t {
	case TypeQ2_K:
		k.DotQ8 = dotQ2_KQ8K
	case TypeQ3_K:
		k.DotQ8 = dotQ3_KQ8K
	case TypeQ4_K:
		k.DotQ8 = dotQ4_KQ8K
	case TypeQ5_K:
		k.DotQ8 = dotQ5_KQ8K
	case TypeQ6_K:
		k.DotQ8 = dotQ6_KQ8K
	case TypeQ8_0:
		k.DotQ8 = dotQ8_0Q8K
	case TypeQ4_0:
		k.DotQ8 = dotQ4_0Q8K
	case TypeQ4_1:
		k.DotQ8 = dotQ4_1Q8K
	case TypeQ5_0:
		k.DotQ8 = dotQ5_0Q8K
	case TypeQ5_1:
		k.DotQ8 = dotQ5_1Q8K
	case TypeIQ4_NL:
		k.DotQ8 = dotIQ4_NLQ8K
	case TypeIQ4_XS:
		k.DotQ8 = dotIQ4_XSQ8K
	}
	return k, true
}

// SumsOf16 writes into dst (len(x)/16 values) the sums of each 16 elements
// of x, the second argument of a Kernels.Dot; len(x) must be a multiple of 16.
func SumsOf16(dst, x []float32) {
	for i := range dst {
		s := x[16*i : 16*i+16]
		dst[i] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) +
			((s[8] + s[9]) + (s[10] + s[11])) + ((s[12] + s[13]) + (s[14] + s[15]))
	}
}

// ParseType maps a ggml type name ("Q8_0", case-insensitive) to its value.
func ParseType(name string) (GGMLType, bool) {
	for t := range traits {
		if traits[t].name != "" && strings.EqualFold(traits[t].name, name) {
			return GGMLType(t), true
		}
	}
	return 0, false
}

// RowBytes is the encoded size of n elements of type t, or an error when n is
// not a whole number of blocks.
func (t GGMLType) RowBytes(n uint64) (uint64, error) { return tensorBytes(t, n) }

// mulOverflows reports whether a*b overflows uint64.
func mulOverflows(a, b uint64) bool {
	return a != 0 && b > ^uint64(0)/a
}

// tensorBytes is the encoded size of n elements of type t, or an error when
// n is not a whole number of blocks or the size overflows.
func tensorBytes(t GGMLType, n uint64) (uint64, error) {
	tr := t.row()
	if tr == nil {
		return 0, fmt.Errorf("unknown tensor type %d", uint32(t))
	}
	if n%tr.blockSize != 0 {
		return 0, fmt.Errorf("%d elements is not a multiple of the %s block size %d", n, tr.name, tr.blockSize)
	}
	blocks := n / tr.blockSize
	if mulOverflows(blocks, tr.blockBytes) {
		return 0, fmt.Errorf("size of %d %s blocks overflows", blocks, tr.name)
	}
	return blocks * tr.blockBytes, nil
}
