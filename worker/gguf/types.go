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

import "fmt"

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

// typeTraits describes how a type packs elements: blockSize elements occupy
// blockBytes bytes. Sizes follow ggml's type_traits table; knowing them for
// every type lets the reader bounds-check and list files it cannot compute with.
type typeTraits struct {
	name       string
	blockSize  uint64
	blockBytes uint64
}

var traits = map[GGMLType]typeTraits{
	TypeF32:     {"F32", 1, 4},
	TypeF16:     {"F16", 1, 2},
	TypeQ4_0:    {"Q4_0", 32, 18},
	TypeQ4_1:    {"Q4_1", 32, 20},
	TypeQ5_0:    {"Q5_0", 32, 22},
	TypeQ5_1:    {"Q5_1", 32, 24},
	TypeQ8_0:    {"Q8_0", 32, 34},
	TypeQ8_1:    {"Q8_1", 32, 36},
	TypeQ2_K:    {"Q2_K", 256, 84},
	TypeQ3_K:    {"Q3_K", 256, 110},
	TypeQ4_K:    {"Q4_K", 256, 144},
	TypeQ5_K:    {"Q5_K", 256, 176},
	TypeQ6_K:    {"Q6_K", 256, 210},
	TypeQ8_K:    {"Q8_K", 256, 292},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66},
	TypeIQ2_XS:  {"IQ2_XS", 256, 74},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98},
	TypeIQ1_S:   {"IQ1_S", 256, 50},
	TypeIQ4_NL:  {"IQ4_NL", 32, 18},
	TypeIQ3_S:   {"IQ3_S", 256, 110},
	TypeIQ2_S:   {"IQ2_S", 256, 82},
	TypeIQ4_XS:  {"IQ4_XS", 256, 136},
	TypeI8:      {"I8", 1, 1},
	TypeI16:     {"I16", 1, 2},
	TypeI32:     {"I32", 1, 4},
	TypeI64:     {"I64", 1, 8},
	TypeF64:     {"F64", 1, 8},
	TypeIQ1_M:   {"IQ1_M", 256, 56},
	TypeBF16:    {"BF16", 1, 2},
	TypeTQ1_0:   {"TQ1_0", 256, 54},
	TypeTQ2_0:   {"TQ2_0", 256, 66},
	TypeMXFP4:   {"MXFP4", 32, 17},
}

// String returns ggml's name for the type, e.g. "Q4_K".
func (t GGMLType) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether the type is one ggml defines.
func (t GGMLType) Known() bool {
	_, ok := traits[t]
	return ok
}

// BlockSize is the number of elements per quantization block (1 for plain types).
func (t GGMLType) BlockSize() uint64 { return traits[t].blockSize }

// BlockBytes is the encoded size of one block.
func (t GGMLType) BlockBytes() uint64 { return traits[t].blockBytes }

// Dequantizable reports whether this package can convert the type to float32.
func (t GGMLType) Dequantizable() bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0:
		return true
	}
	return false
}

// ParseType maps a ggml type name ("Q8_0") to its value.
func ParseType(name string) (GGMLType, bool) {
	for t, tr := range traits {
		if tr.name == name {
			return t, true
		}
	}
	return 0, false
}

// mulOverflows reports whether a*b overflows uint64.
func mulOverflows(a, b uint64) bool {
	return a != 0 && b > ^uint64(0)/a
}

// tensorBytes is the encoded size of n elements of type t, or an error when
// n is not a whole number of blocks or the size overflows.
func tensorBytes(t GGMLType, n uint64) (uint64, error) {
	tr, ok := traits[t]
	if !ok {
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
