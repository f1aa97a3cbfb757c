package kvcache

import (
	"fmt"
	"strings"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// Type is how keys and values are stored, as spec.serving.kvCacheType and
// serve's --kv-cache-type name it. Each is a ggml type, whose size comes from
// gguf's type table (the CUDA library's cuda/layout/types.h says the same):
// a token's keys (or values) of one layer are one row of HeadsKV × HeadDim
// elements, and Q8_0 groups each 32 consecutive elements of that row under one
// fp16 scale, as ggml's Q8_0 blocks do.
type Type string

// The types. The zero value is Auto.
const (
	// Auto is F16 on a GPU and F32 on the CPU engine, the reference.
	Auto Type = "auto"
	F32  Type = "f32"
	F16  Type = "f16"
	BF16 Type = "bf16"
	Q8_0 Type = "q8_0"
)

// Types are the storage types, Auto first.
var Types = []Type{Auto, F32, F16, BF16, Q8_0}

// ParseType reads a type name; "" is Auto.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(s))
	if t == "" {
		return Auto, nil
	}
	for _, k := range Types {
		if t == k {
			return t, nil
		}
	}
	names := make([]string, len(Types))
	for i, k := range Types {
		names[i] = string(k)
	}
	return "", fmt.Errorf("KV cache type %q: want one of %s", s, strings.Join(names, ", "))
}

// Or is t, or def when t is Auto (or empty).
func (t Type) Or(def Type) Type {
	if t == "" || t == Auto {
		return def
	}
	return t
}

// GGML is the ggml type t stores as; t must not be Auto.
func (t Type) GGML() gguf.GGMLType {
	switch t {
	case F32:
		return gguf.TypeF32
	case F16:
		return gguf.TypeF16
	case BF16:
		return gguf.TypeBF16
	case Q8_0:
		return gguf.TypeQ8_0
	}
	panic(fmt.Sprintf("kvcache: no storage type for %q", string(t)))
}

// Check says whether the model's rows can be stored as t: a Q8_0 row is whole blocks.
func (t Type) Check(h model.Hyper) error {
	width := uint64(h.HeadsKV * h.HeadDim)
	if g := t.GGML(); width%g.BlockSize() != 0 {
		return fmt.Errorf("KV cache type %s stores keys and values in blocks of %d, but this model's rows are %d wide (%d KV heads × %d): use f16 or bf16",
			t, g.BlockSize(), width, h.HeadsKV, h.HeadDim)
	}
	return nil
}

// RowBytes is the bytes of one token's keys (or values) in one layer, stored as
// t; t must not be Auto, and the model must pass Check.
func (t Type) RowBytes(h model.Hyper) uint64 {
	g := t.GGML()
	return uint64(h.HeadsKV*h.HeadDim) / g.BlockSize() * g.BlockBytes()
}

// ReadBytes is the keys and values one query at position pos reads over all
// layers, stored as t: every position up to its own, or a windowed layer's
// window of them (model.Hyper.Window). Decode at batch 1 reads these and the
// weights for each token: the roofline's bytes.
func ReadBytes(h model.Hyper, t Type, pos int) uint64 {
	var n uint64
	for l := range h.Blocks {
		read := pos + 1
		if w := h.Window(l); w > 0 {
			read = min(read, w)
		}
		n += uint64(read)
	}
	return 2 * n * t.RowBytes(h)
}

// BytesPerToken is the KV cost of one token over all layers: a key and a value
// row per layer, stored as t (where every layer keeps every position).
func BytesPerToken(h model.Hyper, t Type) uint64 {
	return 2 * uint64(h.Blocks) * t.RowBytes(h)
}
