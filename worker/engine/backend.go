// Package engine runs models: the Backend interface that the serving layer
// drives, a pure-Go CPU reference backend, sampling, and the Generate loop.
package engine

import (
	"errors"
	"fmt"

	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

// SeqID names a sequence's KV state inside a backend.
type SeqID uint64

// DecodeInput is one step of one sequence: the token to append.
type DecodeInput struct {
	Seq   SeqID
	Token int
}

// GreedyDecoder is implemented by backends that can take the greedy next
// token where the logits are (the CUDA backend: on the GPU), so a decode step
// returns one id per sequence instead of a vocabulary-sized row of logits.
// DecodeGreedy is Decode followed by the argmax of each row, lowest id on
// ties, as a Sampler with Greedy parameters picks; a row whose logits hold a
// NaN or +Inf gives NonFiniteToken instead.
type GreedyDecoder interface {
	DecodeGreedy(batch []DecodeInput) ([]int, error)
}

// NonFiniteToken is what GreedyDecoder.DecodeGreedy gives for a row it could not
// pick from: its logits held a NaN or +Inf (see ErrNonFinite).
const NonFiniteToken = -1

// MaskedDecoder is a GreedyDecoder that also applies constraints where the
// logits are, so a constrained (structured output) step returns one id per
// sequence too. DecodeGreedyMasked is DecodeGreedy where row i picks among
// the tokens masks()[i] allows (a Constraint's Allowed layout; nil allows
// every token), as a Sampler with Greedy parameters picks with SampleMasked,
// after the same check for NaN and +Inf in the whole row: NonFiniteToken for
// such a row, NoAllowedToken for one whose mask allows none. masks is called
// once the step is under way on the device, so the host works the masks out
// while the device computes; it returns one entry per batch input.
//
// MasksOnDevice says whether to use it: a backend may turn it off (the CUDA
// backend with KUBEINFER_GPU_MASK=0), and the caller then masks copied
// logits on the host.
type MaskedDecoder interface {
	GreedyDecoder
	DecodeGreedyMasked(batch []DecodeInput, masks func() [][]uint64) ([]int, error)
	MasksOnDevice() bool
}

// SampledMaskedDecoder is a MaskedDecoder that also draws sampled rows among
// their masks' tokens where the logits are: DecodeSampledMasked is
// DecodeSampled where row i draws among the tokens masks()[i] allows (nil:
// every token; temperature, top-k, top-p and min-p see the allowed tokens
// only), with DecodeGreedyMasked's NonFiniteToken and NoAllowedToken, and
// masks called as there. A structured-output request at a temperature then
// costs its mask's upload, not its logits' download.
type SampledMaskedDecoder interface {
	MaskedDecoder
	DecodeSampledMasked(batch []DecodeInput, rows []RowSampling, masks func() [][]uint64) ([]int, error)
}

// SamplingDecoder is a GreedyDecoder that also draws sampled tokens where the
// logits are, each row by its own RowSampling, so a batch of requests at a
// temperature (the OpenAI SDKs' default is 1) returns one id per sequence
// instead of a vocabulary-sized row of logits each. A row with a temperature
// <= 0 gives DecodeGreedy's token; a row whose logits hold a NaN or +Inf gives
// NonFiniteToken, sampled or not. The draws are the backend's own random
// stream, reproducible for a row's seed and step whatever it is batched with,
// not a Sampler's.
type SamplingDecoder interface {
	GreedyDecoder
	DecodeSampled(batch []DecodeInput, rows []RowSampling) ([]int, error)
}

// MixedDecoder is a SamplingDecoder that brings to the host only the logits
// of the rows that need them there (logprobs, penalties, bias, a
// constraint the backend does not apply): DecodeMixed is DecodeSampled where
// a row with host[i] set gives its logits in logits[i] (picked[i] is then
// meaningless) and every other row its token (logits[i] nil). One request
// with logprobs among 63 sampled ones then costs its own row, not 64.
type MixedDecoder interface {
	SamplingDecoder
	DecodeMixed(batch []DecodeInput, rows []RowSampling, host []bool) (picked []int, logits [][]float32, err error)
}

// LogprobDecoder is a SamplingDecoder that also works out, where the logits
// are, what the OpenAI API returns as logprobs: DecodeSampledLogprobs is
// DecodeSampled that gives, for every row, the log-softmax of its logits at
// the token it picked and the topN most likely tokens (topN <= MaxTopLogprobs),
// as Logprobs computes them on the host, so a request with logprobs costs a
// few hundred bytes a step instead of a vocabulary-sized row of logits and a
// pass over it on the host.
type LogprobDecoder interface {
	SamplingDecoder
	DecodeSampledLogprobs(batch []DecodeInput, rows []RowSampling, topN int) (picked []int, lps []RowLogprobs, err error)
}

// Warmer is a Backend that prepares at load what its first decode steps of
// each batch size, and its first prompts, would otherwise prepare while
// clients wait (the CUDA engine captures a graph a batch size, and its GEMMs
// pick their algorithms for a prefill chunk's size): Warmup runs decode steps
// of 1 to maxBatch sequences of its own and a prefill, and frees them. It
// returns the batch sizes it warmed.
type Warmer interface {
	Warmup(maxBatch int) (int, error)
}

// BatchPrefiller is a Backend that prefills chunks of several sequences in
// one pass over the weights, so prompts that arrive together share each weight
// read instead of taking a pass each. PrefillBatch is Prefill for every part
// (each sequence at most once), returning each part's last-position logits in
// order; a call that fails (an invalid part, kvcache.ErrFull for the parts
// together) changes no sequence. A backend set not to batch prefills returns
// ErrNoBatchPrefill, and the caller stops asking.
type BatchPrefiller interface {
	PrefillBatch(parts []PrefillPart) ([][]float32, error)
}

// MixedStepper is a SamplingDecoder that also carries prefill chunks of other
// sequences in a decode step's pass over the weights, so a prompt arriving
// among running streams costs them its extra tokens, not a pass of its own:
// StepMixed is DecodeSampled for batch and PrefillBatch for parts in one call,
// all or nothing (a failure changes no sequence). MixedStepLimits are the most
// tokens (decode rows and prefill tokens together) and rows (decode rows and
// parts) one call takes; a call past them fails, and the caller steps
// separately. A backend set not to mix returns ErrNoMixedStep, and the
// caller stops asking.
type MixedStepper interface {
	SamplingDecoder
	StepMixed(batch []DecodeInput, rows []RowSampling, parts []PrefillPart) (picked []int, logits [][]float32, err error)
	MixedStepLimits() (tokens, rows int)
}

// PrefillPart is one sequence's chunk of a BatchPrefiller call.
type PrefillPart struct {
	Seq    SeqID
	Tokens []int
}

// RowSampling is what a SamplingDecoder needs of one row: the SamplingParams
// it can apply (OnDevice) and the draw's seed and step.
type RowSampling struct {
	Temperature float32 // <= 0: greedy
	TopK        int
	TopP        float32
	MinP        float32 // after top-k and top-p, as the Sampler applies it
	Seed, Step  uint64
}

// OnDevice says whether a SamplingDecoder can draw with p: no penalty or
// bias, which need the logits on the host (or the history).
func (p SamplingParams) OnDevice() bool {
	return (p.RepetitionPenalty == 0 || p.RepetitionPenalty == 1) &&
		p.PresencePenalty == 0 && p.FrequencyPenalty == 0 && len(p.LogitBias) == 0
}

// Row is p as a SamplingDecoder takes it at step (the tokens drawn before).
func (p SamplingParams) Row(step int) RowSampling {
	return RowSampling{Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP, MinP: p.MinP, Seed: p.Seed, Step: uint64(step)}
}

// NoAllowedToken is what MaskedDecoder.DecodeGreedyMasked gives for a row
// whose mask allows no token of the vocabulary.
const NoAllowedToken = -2

// Errors a Backend returns; callers branch on them with errors.Is.
var (
	ErrUnknownSequence = errors.New("unknown sequence")
	// ErrSequenceFull means the tokens would not fit in the length the
	// sequence was started with; the server finishes such a request with "length".
	ErrSequenceFull = errors.New("sequence is full")
	ErrClosed       = errors.New("backend is closed")
	// ErrNoBatchPrefill is a BatchPrefiller's answer when it is set not to
	// batch prefills.
	ErrNoBatchPrefill = errors.New("batched prefill is off")
	// ErrNoMixedStep is a MixedStepper's answer when it is set not to mix
	// prefill chunks into decode steps.
	ErrNoMixedStep = errors.New("mixed steps are off")
)

// Backend runs a model's forward pass. It is shaped for continuous batching:
// the serving layer keeps many sequences alive, prefills new ones as they
// arrive and advances all running ones together with one Decode call per
// step, so a GPU backend can batch the step into one set of kernels while
// each sequence keeps its own KV state. Nothing here names a device type, so
// the server does not know whether the CPU or the CUDA engine runs.
//
// Implementations are safe for concurrent use, but calls may be serialized
// internally; a scheduler gets throughput by batching, not by parallel calls.
// Returned logit slices belong to the caller.
type Backend interface {
	// Name is the engine name, "cpu" or "cuda".
	Name() string
	// Device names where the model runs, "CPU" or "GPU0".
	Device() string
	// Model is the loaded model: hyperparameters, vocabulary, tensor names.
	Model() *model.Model
	// KV is the pool of KV cache blocks every sequence of this backend draws
	// from: the scheduler admits and preempts by what it has free.
	KV() *kvcache.Pool
	// NewSequence starts a sequence of up to maxTokens tokens (prompt plus
	// generated); maxTokens <= 0 means the model's context length. It takes no
	// KV space: Prefill and Decode take blocks from KV as the sequence grows,
	// all or none per call, and fail with kvcache.ErrFull when the pool has
	// too few free.
	NewSequence(maxTokens int) (SeqID, error)
	// StartSequence is NewSequence for a sequence that will hold prompt: it
	// takes the longest prefix of prompt that the KV pool holds from earlier
	// sequences (whole blocks; at least the last token is left) and reports
	// its length, cached; the caller then Prefills prompt[cached:].
	StartSequence(maxTokens int, prompt []int) (seq SeqID, cached int, err error)
	// Prefill appends tokens to the sequence and returns the logits of the
	// last position, or of every position when allLogits is set (used to
	// score prompts and to test fidelity).
	Prefill(seq SeqID, tokens []int, allLogits bool) ([][]float32, error)
	// Decode appends one token to each listed sequence (each at most once)
	// and returns each one's next-token logits, in input order.
	Decode(batch []DecodeInput) ([][]float32, error)
	// FreeSequence releases a sequence's KV state; unknown ids are ignored
	// so that cleanup paths can call it unconditionally.
	FreeSequence(seq SeqID)
	// Close releases everything; further calls return ErrClosed.
	Close() error
}

// CheckToken says whether tok is an id of a vocabulary of vocabSize tokens; every
// Backend validates its input with it so all engines reject the same ids.
func CheckToken(tok, vocabSize int) error {
	if tok < 0 || tok >= vocabSize {
		return fmt.Errorf("token %d is outside the vocabulary of %d", tok, vocabSize)
	}
	return nil
}

// CheckPrefill validates a Prefill of tokens into a sequence holding length of its
// capacity tokens, the same way for every Backend.
func CheckPrefill(seq SeqID, tokens []int, length, capacity, vocabSize int) error {
	if length+len(tokens) > capacity {
		return fmt.Errorf("prefill %d tokens at position %d of %d: %w", len(tokens), length, capacity, ErrSequenceFull)
	}
	for _, tok := range tokens {
		if err := CheckToken(tok, vocabSize); err != nil {
			return fmt.Errorf("prefill sequence %d: %w", seq, err)
		}
	}
	return nil
}
