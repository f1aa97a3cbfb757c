package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/cudabackend"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/kvcache"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
)

func init() {
	commands["bench"] = command{summary: "measure prefill and decode speed (and GPU roofline) of a model", run: runBench}
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("bench", "--model FILE [--prompt-tokens N] [--gen-tokens N] [--device auto|cpu|cuda]", e.stderr)
	path := fs.String("model", "", "GGUF model file (required)")
	arch := fs.String("arch", "", "declared architecture family, llama or gpt (optional)")
	promptTokens := fs.Int("prompt-tokens", 128, "prompt length")
	genTokens := fs.Int("gen-tokens", 256, "tokens to decode")
	device := fs.String("device", "auto", "engine: cpu, cuda, or auto (CUDA when available)")
	cudaLib := fs.String("cuda-lib", "", "path of libkubeinfer_cuda.so (default: $KUBEINFER_CUDA_LIB, next to the binary, system paths)")
	noGraphs := fs.Bool("no-graphs", false, "run CUDA decode steps without graph capture")
	gpus := fs.Int("gpus", 1, "GPUs to split the model over (tensor parallelism), as serve --gpus")
	kvType := fs.String("kv-cache-type", string(kvcache.Auto), "how the KV cache stores keys and values: auto, f32, f16, bf16 or q8_0")
	batch := fs.Int("batch", 1, "on a GPU, also decode this many sequences in lockstep (one Decode call a step) and report the step")
	contexts := fs.String("contexts", "", "also decode --gen-tokens after prompts of each of these lengths (e.g. 128,2048,8192) and report "+
		"tok/s with the bytes a token reads (weights and KV) against the measured copy bandwidth")
	synthetic := fs.String("synthetic", "", "first write a random model of this shape to --model if it is missing: "+
		strings.Join(syntheticShapeNames(), ", "))
	typ := fs.String("type", "bf16", "with --synthetic: the weights' type, a llama-quantize recipe ("+syntheticTypeNames()+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" || *promptTokens <= 0 || *genTokens <= 0 || *batch <= 0 || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	kt, err := kvcache.ParseType(*kvType)
	if err != nil {
		return err
	}
	ctxLens, err := parseContexts(*contexts)
	if err != nil {
		return err
	}
	if *synthetic != "" {
		if err := writeSynthetic(e, *path, *synthetic, *typ); err != nil {
			return err
		}
	}
	var family model.Family
	if *arch != "" {
		f, err := model.ParseFamily(*arch)
		if err != nil {
			return err
		}
		family = f
	}
	m, err := model.Load(*path, family)
	if err != nil {
		return err
	}
	defer m.Close()
	start := time.Now()
	backend, note, err := cudabackend.Select(m, *device, cudabackend.Options{LibPath: *cudaLib, DisableGraphs: *noGraphs, GPUs: *gpus,
		Memory: memplan.Options{KVType: kt}})
	if err != nil {
		return err
	}
	defer backend.Close()
	if note != "" {
		e.log.Info(note)
	}
	fmt.Fprintf(e.stdout, "model %s (%s, %s), engine %s on %s, loaded in %s\n", *path, m.Hyper.Arch, weightTypes(m),
		backend.Name(), backend.Device(), time.Since(start).Round(time.Millisecond))
	if rss, ok := residentBytes(); ok && backend.Name() == "cpu" {
		fmt.Fprintf(e.stdout, "memory: %.1f MiB resident after load; weights %.1f MiB in the file\n",
			float64(rss)/(1<<20), float64(m.TensorBytes())/(1<<20))
	}

	vocab := m.Hyper.VocabSize
	prompt := benchPrompt(*promptTokens, vocab)
	if len(prompt)+*genTokens > m.Hyper.ContextLength {
		return fmt.Errorf("%d prompt + %d generated tokens exceed the context length %d", len(prompt), *genTokens, m.Hyper.ContextLength)
	}
	// Warm up at the measured shape, as the transformers side of hack/realshape does: kernel loading,
	// cuBLAS heuristics for the prompt's GEMM shapes, graph capture for batch 1.
	if _, _, err := benchRun(ctx, backend, prompt, min(*genTokens, 4)); err != nil {
		return err
	}
	prefill, decode, err := benchRun(ctx, backend, prompt, *genTokens)
	if err != nil {
		return err
	}
	passes := 1
	if backend.Name() == "cuda" {
		// The median of 5 passes on fresh sequences: the second of them captures the shape's prefill graph and
		// the rest replay it.
		passes = 5
		if prefill, err = benchPrefill(backend, prompt, passes); err != nil {
			return err
		}
	}
	prefillRate := float64(len(prompt)) / prefill.Seconds()
	decodeRate := float64(*genTokens-1) / decode.Seconds()
	of := ""
	if passes > 1 {
		of = fmt.Sprintf(" (median of %d passes)", passes)
	}
	fmt.Fprintf(e.stdout, "prefill: %d tokens in %s, %.1f tok/s%s\n", len(prompt), prefill.Round(time.Microsecond), prefillRate, of)
	fmt.Fprintf(e.stdout, "decode:  %d tokens in %s, %.1f tok/s (%.3f ms/token)\n", *genTokens-1,
		decode.Round(time.Microsecond), decodeRate, 1e3/decodeRate)

	gpu, ok := backend.(*cudabackend.Backend)
	if !ok {
		fmt.Fprintln(e.stdout, "roofline: GPU only (the CPU engine has no bandwidth measurement)")
		return nil
	}
	// The same decode with greedy sampling on the GPU: no logits cross to the host.
	onDevice, err := benchDeviceSampled(ctx, gpu, prompt, *genTokens)
	if err != nil {
		return err
	}
	sampledRate := float64(*genTokens-1) / onDevice.Seconds()
	fmt.Fprintf(e.stdout, "decode, sampled on the GPU: %d tokens in %s, %.1f tok/s (%.3f ms/token)\n", *genTokens-1,
		onDevice.Round(time.Microsecond), sampledRate, 1e3/sampledRate)
	if on, err := gpu.PersistentDecode(); err != nil {
		return err
	} else if on {
		fmt.Fprintln(e.stdout, "decode path: one persistent launch for the layers (KUBEINFER_CUDA_PERSISTENT=1)")
	} else {
		fmt.Fprintln(e.stdout, "decode path: a kernel a stage")
	}
	// What a request with logprobs (top 5) costs a token: worked out on the GPU, or on the host from copied logits.
	for _, onGPU := range []bool{true, false} {
		d, err := benchLogprobs(ctx, gpu, prompt, *genTokens, onGPU)
		if err != nil {
			return err
		}
		where := "on the host (logits copied)"
		if onGPU {
			where = "on the GPU"
		}
		rate := float64(*genTokens-1) / d.Seconds()
		fmt.Fprintf(e.stdout, "decode, top-%d logprobs %s: %.1f tok/s (%.3f ms/token, %.1f%% of sampled on the GPU)\n",
			benchTopLogprobs, where, rate, 1e3/rate, 100*rate/sampledRate)
	}
	bw, err := gpu.MeasureBandwidth(1 << 30)
	if err != nil {
		return err
	}
	wb := gpu.WeightBytes()
	for _, r := range []struct {
		name string
		rate float64
	}{{"logits to host", decodeRate}, {"sampled on the GPU", sampledRate}} {
		fmt.Fprintf(e.stdout, "roofline (%s): weights %.1f MiB x %.1f tok/s = %.1f GB/s of %.1f GB/s measured device copy bandwidth: %.1f%%\n",
			r.name, float64(wb)/(1<<20), r.rate, float64(wb)*r.rate/1e9, bw/1e9, 100*float64(wb)*r.rate/bw)
	}
	if *batch > 1 {
		step, err := benchBatch(ctx, gpu, prompt, *genTokens, *batch, vocab)
		if err != nil {
			return err
		}
		// A step reads the weights once and every sequence's keys and values so far (on average the
		// prompt and half the generated tokens).
		kvBytes := float64(*batch) * float64(kvcache.ReadBytes(m.Hyper, kt.Or(kvcache.F16), len(prompt)+*genTokens/2))
		fmt.Fprintf(e.stdout, "decode, batch %d, sampled on the GPU (KV %s): %.3f ms/step, %.1f tok/s; weights %.1f MiB + KV %.1f MiB a step = %.1f%% of %.1f GB/s\n",
			*batch, kt.Or(kvcache.F16), 1e3*step.Seconds(), float64(*batch)/step.Seconds(), float64(wb)/(1<<20), kvBytes/(1<<20),
			100*(float64(wb)+kvBytes)/step.Seconds()/bw, bw/1e9)
		// The other side of the step's roofline: its arithmetic against the tensor cores' peak.
		info := gpu.DeviceInfo()
		if peak := publishedBF16TFLOPS(info.Name); peak > 0 {
			flops := stepFLOPs(m, *batch, len(prompt)+*genTokens/2)
			memT, flopT := (float64(wb)+kvBytes)/bw, flops/(peak*1e12)
			roof := max(memT, flopT)
			fmt.Fprintf(e.stdout, "decode, batch %d: %.1f GFLOP a step = %.1f%% of %s's %.0f TFLOP/s bf16 dense peak (published; the "+
				"hi/lo split runs the matmuls twice); step roofline max(bytes %.3f ms, FLOPs %.3f ms) = %.3f ms, the step %.1fx it\n",
				*batch, flops/1e9, 100*flops/step.Seconds()/(peak*1e12), info.Name, peak, 1e3*memT, 1e3*flopT, 1e3*roof,
				step.Seconds()/roof)
		}
	}
	for _, n := range ctxLens {
		if n+*genTokens > m.Hyper.ContextLength {
			fmt.Fprintf(e.stdout, "context %d: skipped, %d + %d generated tokens exceed the context length %d\n", n, n, *genTokens, m.Hyper.ContextLength)
			continue
		}
		p := benchPrompt(n, vocab)
		_, toHost, err := benchRun(ctx, backend, p, *genTokens)
		if err != nil {
			return err
		}
		sampled, err := benchDeviceSampled(ctx, gpu, p, *genTokens)
		if err != nil {
			return err
		}
		// A token reads the weights and, on average, the keys and values of the context halfway through.
		kv := float64(kvcache.ReadBytes(m.Hyper, kt.Or(kvcache.F16), n+*genTokens/2))
		perToken := float64(wb) + kv
		rate := func(d time.Duration) float64 { return float64(*genTokens-1) / d.Seconds() }
		fmt.Fprintf(e.stdout, "context %d: decode %.1f tok/s logits to host (%.1f%% of roofline), %.1f tok/s sampled on the GPU (%.1f%%); "+
			"a token reads weights %.1f MiB + KV %.1f MiB of %.1f GB/s\n", n, rate(toHost), 100*perToken*rate(toHost)/bw,
			rate(sampled), 100*perToken*rate(sampled)/bw, float64(wb)/(1<<20), kv/(1<<20), bw/1e9)
	}
	return nil
}

// stepFLOPs is a decode step's arithmetic for batch sequences at context ctx: each token's matmuls (2 FLOPs a
// weight) and its attention (q.k and p.v: 4 FLOPs a head dimension a key, every layer).
func stepFLOPs(m *model.Model, batch, ctx int) float64 {
	h := m.Hyper
	attn := 4 * float64(h.Heads) * float64(h.HeadDim) * float64(ctx) * float64(h.Blocks)
	return float64(batch) * (2*float64(m.MatmulParams()) + attn)
}

// publishedBF16TFLOPS is the dense bf16 tensor-core peak NVIDIA publishes for a GPU of that name (0: not known).
func publishedBF16TFLOPS(name string) float64 {
	for _, p := range []struct {
		match  string
		tflops float64
	}{{"H200", 989.4}, {"H100 80GB HBM3", 989.4}, {"H100 SXM", 989.4}, {"H100 NVL", 835.6}, {"H100 PCIe", 756.5}, {"A100", 312}} {
		if strings.Contains(name, p.match) {
			return p.tflops
		}
	}
	return 0
}

// benchPrompt is n token ids spread over the vocabulary: what the weights are does not matter to speed.
func benchPrompt(n, vocab int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = (i*7919 + 1) % vocab
	}
	return p
}

// parseContexts reads --contexts: prompt lengths, comma-separated.
func parseContexts(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--contexts %q: %q is not a positive number of tokens", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchBatch prefills n sequences with prompt and decodes gen-1 steps of all of
// them at once with greedy sampling on the GPU; it returns the time of a step.
func benchBatch(ctx context.Context, b *cudabackend.Backend, prompt []int, gen, n, vocab int) (time.Duration, error) {
	in := make([]engine.DecodeInput, n)
	for i := range in {
		seq, err := b.NewSequence(len(prompt) + gen)
		if err != nil {
			return 0, fmt.Errorf("sequence %d of %d: %w", i+1, n, err)
		}
		defer b.FreeSequence(seq)
		p := slices.Clone(prompt)
		p[0] = (p[0] + i) % vocab // distinct prompts: no prefix is shared
		out, err := b.Prefill(seq, p, false)
		if err != nil {
			return 0, err
		}
		in[i] = engine.DecodeInput{Seq: seq, Token: argmaxTok(out[0])}
	}
	// The first steps capture the batch's graph; time the rest.
	var t0 time.Time
	for s := range gen - 1 {
		if s == 2 {
			t0 = time.Now()
		}
		if ctx.Err() != nil {
			return 0, errors.New("interrupted")
		}
		toks, err := b.DecodeGreedy(in)
		if err != nil {
			return 0, err
		}
		for i, t := range toks {
			in[i].Token = t
		}
	}
	return time.Since(t0) / time.Duration(max(gen-3, 1)), nil
}

// benchDeviceSampled decodes gen-1 tokens after a prefill of prompt with
// greedy sampling on the GPU, and returns the decode time.
func benchDeviceSampled(ctx context.Context, b *cudabackend.Backend, prompt []int, gen int) (time.Duration, error) {
	return benchSteps(ctx, b, prompt, gen, func(in []engine.DecodeInput) (int, error) {
		toks, err := b.DecodeSample(in, cudabackend.Sampling{})
		if err != nil {
			return 0, err
		}
		return toks[0], nil
	})
}

// benchTopLogprobs is the alternatives a token the logprobs benchmark asks for (an eval harness's usual 5).
const benchTopLogprobs = 5

// benchLogprobs decodes gen tokens greedily with their logprobs, as the scheduler does for a request that wants
// them: worked out on the GPU (DecodeSampledLogprobs), or from the logits copied to the host (engine.Logprobs).
func benchLogprobs(ctx context.Context, b *cudabackend.Backend, prompt []int, gen int, onGPU bool) (time.Duration, error) {
	return benchSteps(ctx, b, prompt, gen, func(in []engine.DecodeInput) (int, error) {
		if onGPU {
			picked, _, err := b.DecodeSampledLogprobs(in, []engine.RowSampling{{}}, benchTopLogprobs)
			if err != nil {
				return 0, err
			}
			return picked[0], nil
		}
		logits, err := b.Decode(in)
		if err != nil {
			return 0, err
		}
		tok := argmaxTok(logits[0]) // the host sampler's pick, then its logprobs
		engine.Logprobs(logits[0], tok, benchTopLogprobs)
		return tok, nil
	})
}

// benchSteps prefills prompt in a new sequence, picks its first token on the GPU, then times gen-1 calls of
// step, each given the last token and returning the next.
func benchSteps(ctx context.Context, b *cudabackend.Backend, prompt []int, gen int, step func([]engine.DecodeInput) (int, error)) (time.Duration, error) {
	seq, err := b.NewSequence(len(prompt) + gen)
	if err != nil {
		return 0, err
	}
	defer b.FreeSequence(seq)
	if _, err := b.Prefill(seq, prompt, false); err != nil {
		return 0, err
	}
	toks, err := b.SampleLast(1, cudabackend.Sampling{})
	if err != nil {
		return 0, err
	}
	tok := toks[0]
	t0 := time.Now()
	for range gen - 1 {
		if ctx.Err() != nil {
			return 0, errors.New("interrupted")
		}
		if tok, err = step([]engine.DecodeInput{{Seq: seq, Token: tok}}); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// benchPrefill is the median time of n prefills of prompt, each in a new sequence.
func benchPrefill(b engine.Backend, prompt []int, n int) (time.Duration, error) {
	times := make([]time.Duration, n)
	for i := range times {
		seq, err := b.NewSequence(len(prompt) + 1)
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		_, err = b.Prefill(seq, prompt, false)
		times[i] = time.Since(t0)
		b.FreeSequence(seq)
		if err != nil {
			return 0, err
		}
	}
	slices.Sort(times)
	return times[n/2], nil
}

// benchRun prefills prompt in a new sequence and decodes gen tokens greedily
// (gen-1 Decode calls: the first token comes from the prefill's logits).
func benchRun(ctx context.Context, b engine.Backend, prompt []int, gen int) (prefill, decode time.Duration, err error) {
	seq, err := b.NewSequence(len(prompt) + gen)
	if err != nil {
		return 0, 0, err
	}
	defer b.FreeSequence(seq)
	t0 := time.Now()
	out, err := b.Prefill(seq, prompt, false)
	if err != nil {
		return 0, 0, err
	}
	prefill = time.Since(t0)
	logits := out[0]
	t1 := time.Now()
	for range gen - 1 {
		if ctx.Err() != nil {
			return 0, 0, errors.New("interrupted")
		}
		out, err := b.Decode([]engine.DecodeInput{{Seq: seq, Token: argmaxTok(logits)}})
		if err != nil {
			return 0, 0, err
		}
		logits = out[0]
	}
	return prefill, time.Since(t1), nil
}

// syntheticShapes are the real models bench --synthetic imitates: their
// shapes and the tensors llama.cpp's converter writes (no rope_freqs).
var syntheticShapes = map[string]modeltest.Config{
	"llama3.2-1b": {Arch: "llama", Embedding: 2048, Heads: 32, HeadsKV: 8, FeedForward: 8192, Blocks: 16,
		Vocab: 128256, Context: 131072, TiedOutput: true, RopeBase: 500000, Seed: 1},
	"llama3.1-8b": {Arch: "llama", Embedding: 4096, Heads: 32, HeadsKV: 8, FeedForward: 14336, Blocks: 32,
		Vocab: 128256, Context: 131072, RopeBase: 500000, Seed: 1},
	// The small shapes of the batch-1 goals beside the Llama-3.2-1B shape: many small matrices, so per-kernel
	// overhead weighs more (Qwen2.5-0.5B: head dim 64, 2 KV heads, q/k/v biases; GPT-2 XL: 25 heads, LayerNorm).
	"qwen2.5-0.5b": {Arch: "qwen2", Embedding: 896, Heads: 14, HeadsKV: 2, FeedForward: 4864, Blocks: 24,
		Vocab: 151936, Context: 32768, TiedOutput: true, RopeBase: 1000000, Seed: 1},
	"gpt2-xl": {Arch: "gpt2", Embedding: 1600, Heads: 25, FeedForward: 6400, Blocks: 48, Vocab: 50257, Context: 1024,
		TiedOutput: true, Seed: 1},
	// Larger than one 80 GB GPU in bf16: the shape tensor parallelism is for.
	"llama3.1-70b": {Arch: "llama", Embedding: 8192, Heads: 64, HeadsKV: 8, FeedForward: 28672, Blocks: 80,
		Vocab: 128256, Context: 131072, RopeBase: 500000, Seed: 1},
}

func syntheticShapeNames() []string {
	names := make([]string, 0, len(syntheticShapes))
	for n := range syntheticShapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func syntheticTypeNames() string {
	var names []string
	for _, f := range gguf.FileTypes() {
		names = append(names, strings.ToLower(f.String()))
	}
	return strings.Join(names, ", ")
}

// syntheticConfig is shape's config with the tensor types of llama-quantize's recipe typ.
func syntheticConfig(shape, typ string) (modeltest.Config, error) {
	cfg, ok := syntheticShapes[shape]
	if !ok {
		return cfg, fmt.Errorf("unknown synthetic shape %q (want %s)", shape, strings.Join(syntheticShapeNames(), " or "))
	}
	f, err := gguf.ParseFileType(typ)
	if err != nil {
		return cfg, err
	}
	cfg.Recipe = f.String()
	return cfg, nil
}

// writeSynthetic writes a random-weight model of a known shape and recipe, so
// the speed of a real model size can be measured where no weights can be
// downloaded. The weights' values do not matter to speed. An existing file is
// used as it is if it was written for the same shape and recipe.
func writeSynthetic(e *env, path, shape, typ string) error {
	cfg, err := syntheticConfig(shape, typ)
	if err != nil {
		return err
	}
	name := "synthetic " + shape + " " + cfg.Recipe
	if f, err := gguf.Open(path); err == nil {
		v, _ := f.Get("general.name")
		have, _ := v.String()
		f.Close()
		if have != name {
			return fmt.Errorf("%s exists and is not a %s model (general.name %q): remove it or choose another --model", path, name, have)
		}
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	cfg.Name = name
	start := time.Now()
	if err := modeltest.WriteSynthetic(path, cfg, runtime.GOMAXPROCS(0)); err != nil {
		return err
	}
	e.log.Info("synthetic model written", "path", path, "shape", shape, "type", cfg.Recipe,
		"seconds", time.Since(start).Seconds())
	return nil
}

// weightTypes summarizes the model's weight types by bytes, e.g. "Q4_K 71%, Q6_K 27%, F32 0%".
func weightTypes(m *model.Model) string {
	bytes := map[string]uint64{}
	var total uint64
	for _, t := range m.Tensors() {
		bytes[t.Info.Type.String()] += t.Info.Size
		total += t.Info.Size
	}
	names := make([]string, 0, len(bytes))
	for n := range bytes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return bytes[names[i]] > bytes[names[j]] })
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.0f%%", n, 100*float64(bytes[n])/float64(max(total, 1)))
	}
	return strings.Join(parts, ", ")
}

// residentBytes is the process's resident set size (Linux), for the CPU
// engine's memory: the mapped weights count once they are read.
func residentBytes() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}

func argmaxTok(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}
