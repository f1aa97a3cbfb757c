package tokenizer

import (
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// VocabFromGGUF reads the tokenizer.ggml.* keys into the tokenizer's input.
// Array lengths and special token ids are checked against the token list so
// the tokenizer never indexes out of range on a bad file.
func VocabFromGGUF(f *gguf.File) (Vocab, error) {
	v := Vocab{BOS: -1, EOS: -1, UNK: -1, PAD: -1}
	model, ok := f.Get("tokenizer.ggml.model")
	if !ok {
		return v, fmt.Errorf("metadata tokenizer.ggml.model is missing")
	}
	if v.Model, ok = model.String(); !ok {
		return v, fmt.Errorf("metadata tokenizer.ggml.model is %s, want string", model.Type)
	}
	if pre, ok := f.Get("tokenizer.ggml.pre"); ok {
		v.Pre, _ = pre.String()
	}
	tokens, ok := f.Get("tokenizer.ggml.tokens")
	if !ok {
		return v, fmt.Errorf("metadata tokenizer.ggml.tokens is missing")
	}
	if v.Tokens, ok = tokens.Strings(); !ok || len(v.Tokens) == 0 {
		return v, fmt.Errorf("metadata tokenizer.ggml.tokens is not a non-empty string array")
	}
	n := len(v.Tokens)
	if s, ok := f.Get("tokenizer.ggml.scores"); ok {
		if v.Scores, ok = s.Float32s(); !ok || len(v.Scores) != n {
			return v, fmt.Errorf("metadata tokenizer.ggml.scores is not %d floats", n)
		}
	}
	if tt, ok := f.Get("tokenizer.ggml.token_type"); ok {
		if v.TokenTypes, ok = tt.Int32s(); !ok || len(v.TokenTypes) != n {
			return v, fmt.Errorf("metadata tokenizer.ggml.token_type is not %d integers", n)
		}
	}
	if mg, ok := f.Get("tokenizer.ggml.merges"); ok {
		if v.Merges, ok = mg.Strings(); !ok {
			return v, fmt.Errorf("metadata tokenizer.ggml.merges is not a string array")
		}
	}
	for key, dst := range map[string]*int{"bos_token_id": &v.BOS, "eos_token_id": &v.EOS,
		"unknown_token_id": &v.UNK, "padding_token_id": &v.PAD} {
		val, ok := f.Get("tokenizer.ggml." + key)
		if !ok {
			continue
		}
		id, ok := val.Int()
		if !ok || id < 0 || id >= int64(n) {
			return v, fmt.Errorf("metadata tokenizer.ggml.%s = %s is not a token id below %d", key, val.Format(), n)
		}
		*dst = int(id)
	}
	// llama.cpp adds BOS by default for SentencePiece vocabularies only;
	// the file's explicit flags win.
	v.AddBOS = v.Model == "llama"
	if b, ok := f.Get("tokenizer.ggml.add_bos_token"); ok {
		v.AddBOS, _ = b.Bool()
	}
	if b, ok := f.Get("tokenizer.ggml.add_eos_token"); ok {
		v.AddEOS, _ = b.Bool()
	}
	if b, ok := f.Get("tokenizer.ggml.add_space_prefix"); ok {
		prefix, _ := b.Bool()
		v.NoSpacePrefix = !prefix
	}
	return v, nil
}

// FromGGUF builds the tokenizer of a GGUF file.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return New(v)
}
