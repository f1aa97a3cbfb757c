package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

func init() {
	commands["generate"] = command{summary: "generate text from a prompt on the CPU engine", run: runGenerate}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runGenerate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("generate", "--model FILE --arch llama|gpt --prompt TEXT [flags]", e.stderr)
	path := fs.String("model", "", "GGUF model file (required)")
	arch := fs.String("arch", "", "declared architecture family, llama or gpt (required)")
	prompt := fs.String("prompt", "", "prompt text (required)")
	maxTokens := fs.Int("max-tokens", 128, "maximum tokens to generate")
	var p engine.SamplingParams
	temperature := fs.Float64("temperature", 0.8, "sampling temperature; 0 is greedy")
	topP := fs.Float64("top-p", 0.95, "nucleus sampling threshold; 1 disables")
	minP := fs.Float64("min-p", 0.05, "minimum probability relative to the best token; 0 disables")
	repeat := fs.Float64("repeat-penalty", 1, "repetition penalty; 1 disables")
	presence := fs.Float64("presence-penalty", 0, "presence penalty")
	frequency := fs.Float64("frequency-penalty", 0, "frequency penalty")
	fs.IntVar(&p.TopK, "top-k", 40, "keep the K most likely tokens; 0 disables")
	fs.IntVar(&p.PenaltyLastN, "penalty-last-n", 64, "tokens of history the penalties look at; 0 is all")
	seed := fs.Int64("seed", -1, "random seed; -1 picks one from the clock")
	ignoreEOS := fs.Bool("ignore-eos", false, "keep generating past end-of-generation tokens")
	var stops stringList
	fs.Var(&stops, "stop", "stop sequence (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *arch == "" || *prompt == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	family, err := model.ParseFamily(*arch)
	if err != nil {
		return err
	}
	p.Temperature, p.TopP, p.MinP = float32(*temperature), float32(*topP), float32(*minP)
	p.RepetitionPenalty, p.PresencePenalty, p.FrequencyPenalty = float32(*repeat), float32(*presence), float32(*frequency)
	if *seed < 0 {
		*seed = time.Now().UnixNano() & (1<<62 - 1)
	}
	p.Seed = uint64(*seed)

	start := time.Now()
	m, tok, backend, err := openCPU(*path, family)
	if err != nil {
		return err
	}
	defer m.Close()
	defer backend.Close()
	e.log.Info("model loaded", "path", *path, "arch", m.Hyper.Arch, "family", m.Hyper.Family,
		"backend", backend.Name(), "device", backend.Device(), "seconds", time.Since(start).Seconds())

	ids := tok.Encode(*prompt, true)
	if len(ids) == 0 {
		return errors.New("the prompt encodes to no tokens")
	}
	e.log.V(1).Info("prompt encoded", "tokens", len(ids), "ids", ids)
	e.log.V(1).Info("sampling", "params", fmt.Sprintf("%+v", p))
	res, err := engine.Generate(ctx, backend, tok, engine.Request{
		Prompt: ids, MaxTokens: *maxTokens, Sampling: p, Stop: stops, IgnoreEOS: *ignoreEOS,
	}, func(ev engine.Event) error {
		_, err := fmt.Fprint(e.stdout, ev.Text)
		return err
	})
	fmt.Fprintln(e.stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "prompt: %d tokens in %s (%.1f tok/s); generated: %d tokens in %s (%.1f tok/s); finish: %s\n",
		res.PromptTokens, res.PrefillTime.Round(time.Millisecond), rate(res.PromptTokens, res.PrefillTime),
		len(res.Tokens), res.DecodeTime.Round(time.Millisecond), rate(len(res.Tokens), res.DecodeTime), res.Finish)
	return nil
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// openCPU loads the model at path, its tokenizer and the CPU engine on it, as generate and
// eval run it. The caller closes the engine, then the model (the engine computes from the file's mapping).
func openCPU(path string, family model.Family) (*model.Model, *tokenizer.Tokenizer, *engine.CPU, error) {
	m, err := model.Load(path, family)
	if err != nil {
		return nil, nil, nil, err
	}
	tok, err := tokenizer.FromGGUF(m.File)
	if err != nil {
		m.Close()
		return nil, nil, nil, fmt.Errorf("tokenizer: %w", err)
	}
	backend, err := engine.NewCPU(m, engine.CPUOptions{})
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return m, tok, backend, nil
}
