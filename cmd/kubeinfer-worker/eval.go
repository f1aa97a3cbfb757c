package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

func init() {
	commands["eval"] = command{summary: "held-out loss and perplexity of a model on a text, on the CPU engine", run: runEval}
}

// evalReport is what eval prints with --json.
type evalReport struct {
	Model       string  `json:"model"`
	Text        string  `json:"text"`
	Tokens      int     `json:"tokens"`
	Window      int     `json:"window"`
	Windows     int     `json:"windows"`
	Predictions int     `json:"predictions"`
	Loss        float64 `json:"loss"`
	Perplexity  float64 `json:"perplexity"`
	Seconds     float64 `json:"seconds"`
}

// runEval tokenizes a text file with the model's own tokenizer and prints the
// mean next-token cross-entropy (nats per token) and perplexity, scored as
// hack/train/train.py scores held-out text: consecutive windows, each from
// position 0.
func runEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("eval", "--model FILE --text FILE [flags]", e.stderr)
	path := fs.String("model", "", "GGUF model file (required)")
	arch := fs.String("arch", "", "declared architecture family, llama or gpt (default: the file's)")
	textPath := fs.String("text", "", "text file to score (required)")
	window := fs.Int("window", 0, "tokens per window, each scored from position 0; at most the context length + 1 (default)")
	maxTokens := fs.Int("max-tokens", 0, "score only the first N tokens of the text (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *textPath == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	var family model.Family
	if *arch != "" {
		var err error
		if family, err = model.ParseFamily(*arch); err != nil {
			return err
		}
	}
	text, err := os.ReadFile(*textPath)
	if err != nil {
		return err
	}
	m, tok, backend, err := openCPU(*path, family)
	if err != nil {
		return err
	}
	defer m.Close()
	defer backend.Close()
	ids := tok.Encode(string(text), false)
	if *maxTokens > 0 && len(ids) > *maxTokens {
		ids = ids[:*maxTokens]
	}
	if len(ids) < 2 {
		return errors.New("the text encodes to fewer than 2 tokens")
	}
	w := *window
	if w <= 0 {
		w = m.Hyper.ContextLength + 1
	}
	start := time.Now()
	s, err := engine.CrossEntropy(ctx, backend, ids, w)
	if err != nil {
		return err
	}
	r := evalReport{Model: *path, Text: *textPath, Tokens: len(ids), Window: w, Windows: s.Windows,
		Predictions: s.Predictions, Loss: s.Loss(), Perplexity: s.Perplexity(), Seconds: time.Since(start).Seconds()}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(r)
	}
	_, err = fmt.Fprintf(e.stdout, "%s on %s: %d tokens in %d windows of up to %d, %d predictions\nloss %.6f nats/token, perplexity %.4f (%.1f s on the CPU engine)\n",
		*path, *textPath, r.Tokens, r.Windows, r.Window, r.Predictions, r.Loss, r.Perplexity, r.Seconds)
	return err
}
