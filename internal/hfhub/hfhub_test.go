package hfhub

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Setenv("HF_ENDPOINT", "")
	for in, want := range map[string]string{
		"hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf": "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf",
		"hf://org/repo/q8/model.gguf@v1.0":                                     "https://huggingface.co/org/repo/resolve/v1.0/q8/model.gguf",
		"hf://org/repo/model.gguf@refs/pr/1":                                   "https://huggingface.co/org/repo/resolve/refs%2Fpr%2F1/model.gguf",
		"hf://org/repo/a file.gguf@0123abcd":                                   "https://huggingface.co/org/repo/resolve/0123abcd/a%20file.gguf",
		"https://example.com/m.gguf":                                           "https://example.com/m.gguf",
	} {
		got, err := Resolve(in)
		if err != nil || got != want {
			t.Errorf("Resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9999/")
	if got, _ := Resolve("hf://o/r/m.gguf"); got != "http://127.0.0.1:9999/o/r/resolve/main/m.gguf" {
		t.Errorf("with HF_ENDPOINT: %q", got)
	}
	for _, bad := range []string{"hf://o/r", "hf://o//m.gguf", "hf://o/r/m.gguf@", "hf://o/r/m.gguf@a@b", "hf://o/r/dir/"} {
		if _, err := Resolve(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Resolve(%q): %v, want an error naming it", bad, err)
		}
	}
}
