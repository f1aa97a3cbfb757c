package tokenizer_test

import (
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

func TestVocabErrors(t *testing.T) {
	cfg := modeltest.Small("gpt2")
	cfg.HeadsKV = 0
	w, err := modeltest.Writer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Set("tokenizer.ggml.eos_token_id", gguf.Uint32(40))
	f, _ := modeltest.Parse(w)
	if _, err := tokenizer.VocabFromGGUF(f); err == nil || !strings.Contains(err.Error(), "eos_token_id = 40 is not a token id below 40") {
		t.Fatalf("err = %v", err)
	}
	w.Set("tokenizer.ggml.eos_token_id", gguf.Uint32(3))
	w.Set("tokenizer.ggml.add_bos_token", gguf.Bool(true))
	w.Set("tokenizer.ggml.scores", gguf.Float32s([]float32{1}))
	f, _ = modeltest.Parse(w)
	if _, err := tokenizer.VocabFromGGUF(f); err == nil || !strings.Contains(err.Error(), "scores is not 40 floats") {
		t.Fatalf("err = %v", err)
	}
	w.Set("tokenizer.ggml.scores", gguf.Float32s(make([]float32, 40)))
	f, _ = modeltest.Parse(w)
	v, err := tokenizer.VocabFromGGUF(f)
	if err != nil || v.EOS != 3 || !v.AddBOS || v.Model != "gpt2" || v.Pre != "gpt2" || len(v.Merges) != 1 || len(v.TokenTypes) != 40 {
		t.Fatalf("vocab = %+v, %v", v, err)
	}
}
