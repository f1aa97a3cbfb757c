// Package load turns a GGUF file into a model ready to serve: the backend that runs it
// (CPU or CUDA, with its weights loaded), its tokenizer and chat template, and the
// progress of the load with its stall watchdog. The serve command, the server and
// the narration use it; it knows nothing of HTTP or Kubernetes.
package load

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/worker/chattemplate"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/tokenizer"
)

// Model is a loaded model ready to serve.
type Model struct {
	Backend   engine.Backend
	Tokenizer *tokenizer.Tokenizer
	Template  *chattemplate.Template
	// LoadTime is how long loading took; Start adds the warm-up.
	LoadTime time.Duration
	// Plan is the model's GPU memory plan, when Options.Plan computed it.
	Plan memplan.Plan
	file *model.Model
}

// Close releases the backend, then the file mapping the CPU engine computes from.
func (m *Model) Close() error {
	err := m.Backend.Close()
	if m.file != nil {
		err = errors.Join(err, m.file.Close())
	}
	return err
}

// NewBackend builds the engine that runs a loaded model. The serve command passes
// cudabackend.Select, which knows the --device rules; tests pass the CPU engine.
type NewBackend func(m *model.Model) (engine.Backend, error)

// Options says what to load.
type Options struct {
	Path   string
	Family model.Family // declared architecture family; empty skips the check
	// Backend builds the engine; nil means the CPU engine.
	Backend NewBackend
	Log     logr.Logger
	// Plan computes the model's GPU memory plan, reported with the load; nil skips it.
	Plan func(*model.Model) memplan.Plan
	// Progress is told the weight bytes the backend has read so far; nil ignores it.
	Progress model.ProgressFunc
	// Prewarm, when set, runs while the model file is parsed, before Backend is
	// called: the CUDA serve path starts the driver's context there, which
	// otherwise sits on the load's critical path. Its errors resurface in Backend.
	Prewarm func()
	// WarmBatch is the most sequences one decode step will hold (the server's
	// concurrency): a backend that prepares each batch size (engine.Warmer)
	// runs its steps of 1 to WarmBatch sequences after the self-check. 0 skips it.
	WarmBatch int
}

// Load reads the model, builds its tokenizer, chat template and backend. The
// tokenizer and chat template are built while the backend loads the weights.
func Load(o Options) (*Model, error) {
	start := time.Now()
	prewarmed := make(chan struct{})
	if o.Prewarm != nil {
		go func() { defer close(prewarmed); o.Prewarm() }()
	} else {
		close(prewarmed)
	}
	m, err := model.Load(o.Path, o.Family)
	if err != nil {
		<-prewarmed
		return nil, err
	}
	type text struct {
		tok *tokenizer.Tokenizer
		tpl *chattemplate.Template
		err error
	}
	texts := make(chan text, 1)
	go func() {
		tok, err := tokenizer.FromGGUF(m.File)
		if err != nil {
			texts <- text{err: fmt.Errorf("tokenizer: %w", err)}
			return
		}
		texts <- text{tok: tok, tpl: chatTemplate(m, tok, o.Log)}
	}()
	newBackend := o.Backend
	if newBackend == nil {
		newBackend = func(m *model.Model) (engine.Backend, error) { return engine.NewCPU(m, engine.CPUOptions{}) }
	}
	var plan memplan.Plan
	if o.Plan != nil {
		plan = o.Plan(m)
	}
	m.OnProgress = o.Progress
	if o.Progress != nil {
		o.Progress(0, m.TensorBytes()) // the load starts: the ModelLoading Event goes out now
	}
	<-prewarmed
	b, err := newBackend(m)
	m.OnProgress = nil
	t := <-texts
	if err == nil {
		err = t.err
		if err != nil {
			b.Close()
		}
	}
	if err == nil {
		if err = SelfCheck(b, t.tok); err != nil {
			b.Close()
		}
	}
	if err != nil {
		m.Close()
		return nil, err
	}
	warmup(b, o.WarmBatch, o.Log)
	return &Model{Backend: b, Tokenizer: t.tok, Template: t.tpl, LoadTime: time.Since(start), Plan: plan, file: m}, nil
}

// warmup runs b's warm-up (engine.Warmer) for up to maxBatch sequences. A
// failure is logged, not returned: the batch sizes it missed still run, and
// prepare themselves on their first step.
func warmup(b engine.Backend, maxBatch int, log logr.Logger) {
	w, ok := b.(engine.Warmer)
	if !ok || maxBatch <= 0 {
		return
	}
	start := time.Now()
	n, err := w.Warmup(maxBatch)
	if err != nil {
		log.Error(err, "decode warm-up failed; the batch sizes it missed prepare on their first step", "warmed", n)
		return
	}
	if n > 0 {
		log.Info("warmed up the decode steps and a prefill", "batchSizes", n, "took", time.Since(start).Round(time.Millisecond))
	}
}

// SelfCheck runs a short prompt and one decode step through b and checks that
// every logit is finite. Weights or hyperparameters that make the forward pass
// overflow or divide by zero then fail the load, instead of passing /readyz
// and serving garbage. It uses only the Backend interface, so it checks the
// CPU and CUDA engines alike.
func SelfCheck(b engine.Backend, tok *tokenizer.Tokenizer) error {
	prompt := tok.EncodeText("Hello, world", true)
	if len(prompt) == 0 {
		prompt = []int{0}
	}
	seq, err := b.NewSequence(len(prompt) + 1)
	if err != nil {
		return fmt.Errorf("self-check: %w", err)
	}
	defer b.FreeSequence(seq)
	logits, err := b.Prefill(seq, prompt, false)
	if err != nil {
		return fmt.Errorf("self-check prefill: %w", err)
	}
	if err := engine.CheckFinite(logits[0]); err != nil {
		return fmt.Errorf("self-check: the prefill of a %d-token prompt: %w; the model's weights or hyperparameters are broken", len(prompt), err)
	}
	next := 0
	for i, l := range logits[0] {
		if l > logits[0][next] {
			next = i
		}
	}
	logits, err = b.Decode([]engine.DecodeInput{{Seq: seq, Token: next}})
	if err != nil {
		return fmt.Errorf("self-check decode: %w", err)
	}
	if err := engine.CheckFinite(logits[0]); err != nil {
		return fmt.Errorf("self-check: a decode step: %w; the model's weights or hyperparameters are broken", err)
	}
	return nil
}

// chatTemplate is the model's chat template, or the plain role: content format
// when it has none or it does not parse. Either way it keeps the tokenizer's
// control token texts apart in message content: only the template's markup
// may become special tokens (see Model.ChatPrompt).
func chatTemplate(m *model.Model, tok *tokenizer.Tokenizer, log logr.Logger) *chattemplate.Template {
	src, _ := m.File.Get(chattemplate.MetadataKey)
	source, _ := src.String()
	tpl, err := chattemplate.New(source, tok.TokenText(tok.BOS()), tok.TokenText(tok.EOS()))
	if err != nil {
		log.Info("the model's chat template does not parse; using the plain role: content format", "error", err.Error())
		tpl, _ = chattemplate.New("", "", "")
	} else if tpl.Plain() {
		log.Info("the model has no chat template; chat prompts use the plain role: content format")
	}
	return tpl.WithProtected(tok.ControlTexts())
}

// TextPrompt tokenizes a prompt a client sent as text: control token texts in
// it are plain text (llama.cpp's parse_special=false), BOS is added as the
// vocabulary asks.
func (m *Model) TextPrompt(text string) []int { return m.Tokenizer.EncodeText(text, true) }

// ChatPrompt tokenizes a rendered chat prompt: the template's markup makes
// special tokens, message content never does. The plain role: content format
// has no BOS of its own, so the vocabulary's is added; a real template writes
// it itself where the model wants it.
func (m *Model) ChatPrompt(p chattemplate.Prompt) []int {
	return m.Tokenizer.EncodeLiteral(p.Text, p.Literal, m.Template.Plain())
}
