package gguf

import (
	"fmt"
	"strconv"
	"strings"
)

// FileType is llama.cpp's llama_ftype, a GGUF's general.file_type: the recipe
// llama-quantize made the file with, e.g. MOSTLY_Q4_K_M. A recipe is a mix:
// its base type for most tensors and other types for some, by the rules of
// TensorType.
type FileType uint32

// The file types whose tensors are all supported; values are llama.h's.
const (
	FileAllF32   FileType = 0
	FileF16      FileType = 1
	FileQ4_0     FileType = 2
	FileQ4_1     FileType = 3
	FileQ8_0     FileType = 7
	FileQ5_0     FileType = 8
	FileQ5_1     FileType = 9
	FileQ2_K     FileType = 10
	FileQ3_K_S   FileType = 11
	FileQ3_K_M   FileType = 12
	FileQ3_K_L   FileType = 13
	FileQ4_K_S   FileType = 14
	FileQ4_K_M   FileType = 15
	FileQ5_K_S   FileType = 16
	FileQ5_K_M   FileType = 17
	FileQ6_K     FileType = 18
	FileIQ4_NL   FileType = 25
	FileIQ4_XS   FileType = 30
	FileBF16     FileType = 32
	fileTypeLast          = FileBF16
)

// fileTypes holds each recipe's name (as llama-quantize spells it) and base
// type (llama_ftype_get_default_type).
var fileTypes = map[FileType]struct {
	name string
	base GGMLType
}{
	FileAllF32: {"F32", TypeF32}, FileF16: {"F16", TypeF16}, FileBF16: {"BF16", TypeBF16},
	FileQ4_0: {"Q4_0", TypeQ4_0}, FileQ4_1: {"Q4_1", TypeQ4_1}, FileQ5_0: {"Q5_0", TypeQ5_0},
	FileQ5_1: {"Q5_1", TypeQ5_1}, FileQ8_0: {"Q8_0", TypeQ8_0}, FileQ2_K: {"Q2_K", TypeQ2_K},
	FileQ3_K_S: {"Q3_K_S", TypeQ3_K}, FileQ3_K_M: {"Q3_K_M", TypeQ3_K}, FileQ3_K_L: {"Q3_K_L", TypeQ3_K},
	FileQ4_K_S: {"Q4_K_S", TypeQ4_K}, FileQ4_K_M: {"Q4_K_M", TypeQ4_K}, FileQ5_K_S: {"Q5_K_S", TypeQ5_K},
	FileQ5_K_M: {"Q5_K_M", TypeQ5_K}, FileQ6_K: {"Q6_K", TypeQ6_K},
	FileIQ4_NL: {"IQ4_NL", TypeIQ4_NL}, FileIQ4_XS: {"IQ4_XS", TypeIQ4_XS},
}

// FileTypes lists the file types TensorType knows, in llama.h's order.
func FileTypes() []FileType {
	var out []FileType
	for f := FileType(0); f <= fileTypeLast; f++ {
		if _, ok := fileTypes[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// String is llama-quantize's name of the recipe, e.g. "Q4_K_M".
func (f FileType) String() string {
	if ft, ok := fileTypes[f]; ok {
		return ft.name
	}
	return "file_type(" + strconv.Itoa(int(f)) + ")"
}

// BaseType is the type most of the recipe's tensors get.
func (f FileType) BaseType() GGMLType { return fileTypes[f].base }

// ParseFileType maps a recipe name ("q4_k_m", case-insensitive) to its value.
func ParseFileType(name string) (FileType, error) {
	for _, f := range FileTypes() {
		if strings.EqualFold(f.String(), name) {
			return f, nil
		}
	}
	names := make([]string, 0, len(fileTypes))
	for _, f := range FileTypes() {
		names = append(names, strings.ToLower(f.String()))
	}
	return 0, fmt.Errorf("unknown file type %q (want one of %s)", name, strings.Join(names, ", "))
}

// MixShape is what the recipes' rules look at besides a tensor's name and shape.
type MixShape struct {
	Layers int  // block_count
	GQA    int  // query heads per KV head
	Tied   bool // no output.weight: token_embd is also the output projection
}

// TensorType is the type llama-quantize gives a tensor under recipe f, for a
// dense (no experts) model without an importance matrix and no overrides:
// llama_tensor_get_type in llama.cpp's src/llama-quant.cpp, for the recipes
// above, including the fallbacks for rows that are not a whole number of
// blocks. source is the tensor's type in the input file, kept by tensors that
// are never quantized (vectors, norms, position embeddings).
func (f FileType) TensorType(name string, dims []uint64, source GGMLType, s MixShape) GGMLType {
	if len(dims) < 2 || !strings.HasSuffix(name, "weight") || strings.Contains(name, "_norm.weight") ||
		name == "position_embd.weight" || name == "token_types.weight" {
		return source
	}
	t := f.BaseType()
	if t.BlockSize() == 1 { // F32, F16, BF16: no mix
		return t
	}
	layer := -1
	if rest, ok := strings.CutPrefix(name, "blk."); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			layer, _ = strconv.Atoi(rest[:i])
		}
	}
	n := s.Layers
	moreBits := func(i int) bool { return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2 }
	cols := dims[0]
	switch {
	case name == "output.weight" || (s.Tied && name == "token_embd.weight"):
		if cols%t.BlockSize() != 0 {
			t = TypeQ8_0
		} else if t != TypeQ8_0 {
			t = TypeQ6_K
		}
	case name == "token_embd.weight":
		// the base type
	case strings.Contains(name, "attn_v.weight") || strings.Contains(name, "attn_qkv.weight"):
		switch {
		case f == FileQ2_K && s.GQA >= 4:
			t = TypeQ4_K
		case f == FileQ2_K:
			t = TypeQ3_K
		case f == FileQ3_K_M && layer < 2:
			t = TypeQ5_K
		case f == FileQ3_K_M:
			t = TypeQ4_K
		case f == FileQ3_K_L:
			t = TypeQ5_K
		case (f == FileIQ4_NL || f == FileIQ4_XS) && s.GQA >= 4:
			t = TypeQ5_K
		case (f == FileQ4_K_M || f == FileQ5_K_M) && moreBits(layer):
			t = TypeQ6_K
		case f == FileQ4_K_S && layer < 4:
			t = TypeQ5_K
		}
	case strings.Contains(name, "ffn_down"):
		switch {
		case f == FileQ2_K:
			t = TypeQ3_K
		case f == FileQ3_K_M && layer < n/16:
			t = TypeQ5_K
		case f == FileQ3_K_M:
			t = TypeQ4_K
		case f == FileQ3_K_L:
			t = TypeQ5_K
		case f == FileQ4_K_M:
			if moreBits(layer) {
				t = TypeQ6_K
			}
		case layer < n/8 && (f == FileIQ4_NL || f == FileIQ4_XS):
			t = TypeQ5_K
		case f == FileQ5_K_M && moreBits(layer):
			t = TypeQ6_K
		case f == FileQ4_K_S && layer < n/8:
			t = TypeQ5_K
		}
	case strings.Contains(name, "attn_output.weight"):
		switch f {
		case FileQ2_K:
			t = TypeQ3_K
		case FileQ3_K_M:
			t = TypeQ4_K
		case FileQ3_K_L:
			t = TypeQ5_K
		}
	}
	if cols%t.BlockSize() == 0 {
		return t
	}
	// tensor_type_fallback: a type whose blocks fit the rows, else F16.
	switch t {
	case TypeIQ4_XS:
		t = TypeIQ4_NL
	case TypeQ2_K, TypeQ3_K:
		t = TypeQ4_0
	case TypeQ4_K:
		t = TypeQ5_0
	case TypeQ5_K:
		t = TypeQ5_1
	case TypeQ6_K:
		t = TypeQ8_0
	}
	if cols%t.BlockSize() != 0 {
		t = TypeF16
	}
	return t
}
