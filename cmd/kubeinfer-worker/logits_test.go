package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readNPY parses what writeNPY writes: a version 1.0 little-endian float32 2-D array.
func readNPY(t *testing.T, raw []byte) (rows, cols int, data []float32) {
	t.Helper()
	if len(raw) < 10 || string(raw[:8]) != "\x93NUMPY\x01\x00" {
		t.Fatalf("not a .npy v1.0 file: % x", raw[:min(len(raw), 10)])
	}
	hl := int(binary.LittleEndian.Uint16(raw[8:10]))
	if (10+hl)%64 != 0 || raw[10+hl-1] != '\n' {
		t.Fatalf("header of %d bytes is not padded to 64 with a final newline", hl)
	}
	header := string(raw[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("unexpected header %q", header)
	}
	rows, _ = strconv.Atoi(m[1])
	cols, _ = strconv.Atoi(m[2])
	body := raw[10+hl:]
	if len(body) != 4*rows*cols {
		t.Fatalf("%d data bytes for shape (%d, %d)", len(body), rows, cols)
	}
	data = make([]float32, rows*cols)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return rows, cols, data
}

// TestLogitsMatchesFixtureReference runs the logits command with the CPU engine on the
// fidelity fixtures and compares every position with the reference logits that
// hack/fixtures/make_fixtures.py computed, through both the prefill and the decode path.
func TestLogitsMatchesFixtureReference(t *testing.T) {
	for _, name := range []string{"llama_gqa_bf16", "llama3_rope_scaling", "qwen2", "gpt2_f16"} {
		base := filepath.Join("../../worker/testdata/fidelity", name)
		raw, err := os.ReadFile(base + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var fx struct {
			Prompts []struct {
				IDs    []int       `json:"ids"`
				Logits [][]float32 `json:"logits"`
			} `json:"prompts"`
		}
		if err := json.Unmarshal(raw, &fx); err != nil {
			t.Fatal(err)
		}
		p := fx.Prompts[len(fx.Prompts)-1]
		ids := make([]string, len(p.IDs))
		for i, id := range p.IDs {
			ids[i] = strconv.Itoa(id)
		}
		for _, mode := range []string{"prefill", "decode"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "logits.npy")
				code, stdout, stderr := runCLI("logits", "--model", base+".gguf", "--device", "cpu", "--mode", mode,
					"--tokens", strings.Join(ids, ","), "--top", "2", "-o", out)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if !strings.Contains(stdout, "engine cpu on CPU") || !strings.Contains(stdout, fmt.Sprintf("pos %d (token %d): ", len(ids)-1, p.IDs[len(ids)-1])) {
					t.Errorf("summary:\n%s", stdout)
				}
				file, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				rows, cols, got := readNPY(t, file)
				if rows != len(p.Logits) || cols != len(p.Logits[0]) {
					t.Fatalf("shape (%d, %d), reference (%d, %d)", rows, cols, len(p.Logits), len(p.Logits[0]))
				}
				worst := 0.0
				for r, want := range p.Logits {
					for c, w := range want {
						worst = max(worst, math.Abs(float64(got[r*cols+c]-w)))
					}
				}
				if worst > 1e-3 {
					t.Errorf("max |logit - reference| = %g, want <= 1e-3", worst)
				}
			})
		}
	}
}

func TestLogitsUsage(t *testing.T) {
	fixture := "../../worker/testdata/fidelity/qwen2.gguf"
	for _, args := range [][]string{
		{"logits", "--model", fixture},
		{"logits", "--model", fixture, "--tokens", "1,x"},
		{"logits", "--model", fixture, "--tokens", "1", "--mode", "sideways"},
		{"logits", "--tokens", "1"},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// An id outside the vocabulary is the engine's error, not a crash.
	if code, _, stderr := runCLI("logits", "--model", fixture, "--device", "cpu", "--tokens", "1,99999"); code != 1 || !strings.Contains(stderr, "outside the vocabulary") {
		t.Errorf("out-of-vocabulary id: exit %d: %s", code, stderr)
	}
}

func TestTopLogitsAndNPY(t *testing.T) {
	x := []float32{0.5, 3, -1, 2, 3.5, 0}
	if got := topLogits(x, 3); got != "4:3.5000 1:3.0000 3:2.0000" {
		t.Errorf("topLogits = %q", got)
	}
	if got := topLogits(x, 10); !strings.HasPrefix(got, "4:3.5000 1:3.0000 3:2.0000 0:0.5000 5:0.0000 2:-1.0000") {
		t.Errorf("topLogits(all) = %q", got)
	}
	if got := topLogits(x, 0); got != "" {
		t.Errorf("topLogits(0) = %q", got)
	}
	var buf bytes.Buffer
	if err := writeNPY(&buf, [][]float32{{1, 2, 3}, {4, 5, -6.25}}); err != nil {
		t.Fatal(err)
	}
	rows, cols, data := readNPY(t, buf.Bytes())
	if rows != 2 || cols != 3 || data[5] != -6.25 || data[0] != 1 {
		t.Errorf("round trip: (%d, %d) %v", rows, cols, data)
	}
	if err := writeNPY(&buf, [][]float32{{1}, {1, 2}}); err == nil {
		t.Error("ragged rows were written")
	}
}
