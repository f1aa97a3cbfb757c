package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

func init() {
	commands["inspect"] = command{summary: "describe a GGUF model (file or URL, header only) and its GPU memory plan", run: runInspect}
}

func runInspect(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("inspect", "[--metadata] [--context N] [--concurrency N] [-o text|json] (--model PATH|URL | FILE)", e.stderr)
	showMeta := fs.Bool("metadata", false, "also print every metadata key")
	modelRef := fs.String("model", "", "GGUF file path, or an http(s) URL whose header is read with Range requests")
	contextLen := fs.Int("context", 0, "tokens per request for the GPU memory plan, as serve --max-context (default: the model's context)")
	concurrency := fs.Int("concurrency", 8, "requests decoded at once for the GPU memory plan, as serve --max-concurrent")
	gpus := fs.Int("gpus", 1, "GPUs the model is split over for the GPU memory plan, as serve --gpus (the plan is each GPU's)")
	output := fs.String("o", "text", "output format: text or json")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit for reading a URL's header")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ref := *modelRef
	if ref == "" && fs.NArg() == 1 {
		ref = fs.Arg(0)
	}
	if ref == "" || fs.NArg() > 1 || (*modelRef != "" && fs.NArg() != 0) || (*output != "text" && *output != "json") || *concurrency < 1 {
		fs.Usage()
		return errUsage
	}
	f, source, err := openHeader(ctx, ref, *timeout)
	if err != nil {
		return err
	}
	defer f.Close()
	rep := inspectReport(f, source, *contextLen, *concurrency, *gpus)
	if *output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printInspect(e, f, rep, *showMeta)
}

// openHeader opens a local file (memory-mapped: only the header pages are read) or
// reads a URL's header with Range requests, never its tensor data.
func openHeader(ctx context.Context, ref string, timeout time.Duration) (*gguf.File, string, error) {
	if !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") {
		f, err := gguf.Open(ref)
		return f, ref, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, st, err := modelsize.ReadHeader(ctx, nil, ref, 0)
	if err != nil {
		return nil, "", err
	}
	return f, fmt.Sprintf("%s (header: %d bytes in %d requests)", ref, st.BytesRead, st.Requests), nil
}

// inspectJSON is `inspect -o json`.
type inspectJSON struct {
	Source        string `json:"source"`
	Version       uint32 `json:"ggufVersion"`
	FileBytes     uint64 `json:"fileBytes"`
	HeaderBytes   uint64 `json:"headerBytes"`
	Name          string `json:"name,omitempty"`
	Architecture  string `json:"architecture"`
	Family        string `json:"family,omitempty"`
	Parameters    uint64 `json:"parameters"`
	ContextLength int    `json:"contextLength"`
	Tokenizer     string `json:"tokenizer,omitempty"`
	VocabSize     int    `json:"vocabSize"`
	// FileType is general.file_type, the llama-quantize recipe (e.g. "Q4_K_M").
	FileType    string            `json:"fileType,omitempty"`
	TensorBytes uint64            `json:"tensorBytes"`
	BytesByType map[string]uint64 `json:"tensorBytesByType"`
	// UnsupportedTypes are the file's tensor types the worker cannot compute
	// with: it refuses to load such a file (see gpuMemoryError for the tensor).
	UnsupportedTypes []string          `json:"unsupportedTypes,omitempty"`
	GPUMemory        *gpuMemoryJSON    `json:"gpuMemory,omitempty"`
	GPUMemoryErr     string            `json:"gpuMemoryError,omitempty"`
	Tensors          []model.TensorRow `json:"tensors"`
}

// gpuMemoryJSON is the CUDA loader's plan (memplan, the function it allocates by).
type gpuMemoryJSON struct {
	Context       int `json:"context"` // 0: the model's
	Concurrency   int `json:"concurrency"`
	KVCacheTokens int `json:"kvCacheTokens"`
	// GPUs is how many GPUs the model is split over; the byte figures are each GPU's.
	GPUs         int    `json:"gpus"`
	WeightsBytes uint64 `json:"weightsBytes"`
	KVCacheBytes uint64 `json:"kvCacheBytes"`
	BuffersBytes uint64 `json:"buffersBytes"`
	TotalBytes   uint64 `json:"totalBytes"`
	RequiredMiB  int64  `json:"requiredMiB"`
}

func inspectReport(f *gguf.File, source string, contextLen, concurrency, gpus int) inspectJSON {
	info := model.Inspect(f)
	rep := inspectJSON{Source: source, Version: f.Version, FileBytes: f.Size, HeaderBytes: f.HeaderSize, Name: info.Name,
		Architecture: info.Architecture, Family: string(info.Family), Parameters: info.Parameters, ContextLength: info.ContextLength,
		Tokenizer: info.TokenizerModel, VocabSize: info.VocabSize, TensorBytes: info.TotalBytes, BytesByType: info.BytesByType,
		Tensors: info.Tensors, UnsupportedTypes: unsupportedTypes(info)}
	if v, ok := f.Get("general.file_type"); ok {
		if ft, ok := v.Int(); ok {
			rep.FileType = gguf.FileType(ft).String()
		}
	}
	m, err := model.FromFile(f, "")
	if err != nil {
		rep.GPUMemoryErr = err.Error()
		return rep
	}
	// The same options serve --max-context and --max-concurrent give the loader.
	opts := memplan.Options{MaxContext: contextLen, Concurrency: concurrency, GPUs: gpus}
	plan, err := memplan.ForModel(m, opts)
	if err != nil {
		rep.GPUMemoryErr = err.Error()
		return rep
	}
	rep.GPUMemory = &gpuMemoryJSON{Context: contextLen, Concurrency: concurrency, KVCacheTokens: opts.WithDefaults(m.Hyper).KVCacheTokens,
		GPUs: plan.Count(), WeightsBytes: plan.Weights, KVCacheBytes: plan.KVCache, BuffersBytes: plan.Buffers, TotalBytes: plan.Total(),
		RequiredMiB: plan.RequiredMiB()}
	return rep
}

// unsupportedTypes lists, sorted, the tensor types of the file the worker cannot compute with.
func unsupportedTypes(info model.Info) []string {
	var out []string
	for name := range info.BytesByType {
		if t, ok := gguf.ParseType(name); !ok || !t.Supported() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func printInspect(e *env, f *gguf.File, rep inspectJSON, showMeta bool) error {
	info := model.Inspect(f)
	w := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
	family := string(info.Family)
	if family == "" {
		family = "unsupported"
	}
	fmt.Fprintf(w, "file:\t%s (GGUF v%d)\n", rep.Source, f.Version)
	if info.Name != "" {
		fmt.Fprintf(w, "name:\t%s\n", info.Name)
	}
	fmt.Fprintf(w, "architecture:\t%s (%s family)\n", info.Architecture, family)
	fmt.Fprintf(w, "parameters:\t%s (%d)\n", humanCount(info.Parameters), info.Parameters)
	fmt.Fprintf(w, "context:\t%d\n", info.ContextLength)
	fmt.Fprintf(w, "tokenizer:\t%s, %d tokens\n", info.TokenizerModel, info.VocabSize)
	if h := info.Hyper; h != nil {
		fmt.Fprintf(w, "shape:\t%d layers, embedding %d, ffn %d, heads %d (kv %d) × %d\n",
			h.Blocks, h.Embedding, h.FeedForward, h.Heads, h.HeadsKV, h.HeadDim)
		fmt.Fprintf(w, "block:\t%s norm, %s, %s residual", h.Norm, h.Act, h.Residual)
		if h.PostNorms {
			fmt.Fprint(w, ", post-norms")
		}
		if h.EmbedScale != 1 {
			fmt.Fprintf(w, ", embeddings × %g", h.EmbedScale)
		}
		fmt.Fprintln(w)
		attn := fmt.Sprintf("scale %.4g", h.AttnScale)
		if h.AttnSoftcap > 0 {
			attn += fmt.Sprintf(", soft-cap %g", h.AttnSoftcap)
		}
		if h.SlidingWindow > 0 {
			windowed := h.Blocks
			if h.SWALayers != nil {
				windowed = 0
				for _, on := range h.SWALayers {
					if on {
						windowed++
					}
				}
			}
			attn += fmt.Sprintf(", sliding window %d in %d of %d layers", h.SlidingWindow, windowed, h.Blocks)
		}
		if h.FinalSoftcap > 0 {
			attn += fmt.Sprintf("; logits soft-cap %g", h.FinalSoftcap)
		}
		fmt.Fprintf(w, "attention:\t%s\n", attn)
		if h.RopeMode != model.RopeNone {
			fmt.Fprintf(w, "rope:\t%s, %d dims, base %g, scale %g, freq factors %v",
				h.RopeMode, h.RopeDim, h.RopeFreqBase, h.RopeFreqScale, h.RopeFreqFactors != nil)
			if h.SlidingWindow > 0 && (h.RopeFreqBaseSWA != h.RopeFreqBase || h.RopeFreqScaleSWA != h.RopeFreqScale) {
				fmt.Fprintf(w, "; windowed layers base %g, scale %g", h.RopeFreqBaseSWA, h.RopeFreqScaleSWA)
			}
			fmt.Fprintln(w)
		}
	} else {
		fmt.Fprintf(w, "hyperparameters:\t%v\n", info.HyperErr)
	}
	sizes := make([]string, 0, len(info.BytesByType))
	for _, t := range info.SortedTypes() {
		sizes = append(sizes, fmt.Sprintf("%s %s (%d)", t, humanBytes(info.BytesByType[t]), info.BytesByType[t]))
	}
	if rep.FileType != "" {
		fmt.Fprintf(w, "file type:\t%s\n", rep.FileType)
	}
	fmt.Fprintf(w, "tensor data:\t%s (%d bytes: %s)\n", humanBytes(info.TotalBytes), info.TotalBytes, strings.Join(sizes, ", "))
	if len(rep.UnsupportedTypes) > 0 {
		fmt.Fprintf(w, "refused:\t%s not supported: the worker will not load this file (supported: %s)\n",
			strings.Join(rep.UnsupportedTypes, ", "), gguf.SupportedTypeNames())
	}
	if g := rep.GPUMemory; g != nil {
		ctxText := "model's context"
		if g.Context > 0 {
			ctxText = fmt.Sprintf("context %d", g.Context)
		}
		perGPU := ""
		if g.GPUs > 1 {
			perGPU = fmt.Sprintf("%d × ", g.GPUs)
		}
		fmt.Fprintf(w, "gpu memory:\t%s%d MiB at %s × %d concurrent (%d KV tokens): weights %s + KV cache %s + buffers %s\n",
			perGPU, g.RequiredMiB, ctxText, g.Concurrency, g.KVCacheTokens, humanBytes(g.WeightsBytes), humanBytes(g.KVCacheBytes), humanBytes(g.BuffersBytes))
	} else {
		fmt.Fprintf(w, "gpu memory:\tunknown (%s)\n", rep.GPUMemoryErr)
	}
	w.Flush()

	if showMeta {
		fmt.Fprintln(e.stdout, "\nmetadata:")
		for _, kv := range f.KVs {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", kv.Key, kv.Value.Type, kv.Value.Format())
		}
		w.Flush()
	}

	fmt.Fprintf(e.stdout, "\n%d tensors:\n", len(info.Tensors))
	fmt.Fprintln(w, "  NAME\tTYPE\tSHAPE\tBYTES")
	for _, t := range info.Tensors {
		fmt.Fprintf(w, "  %s\t%s\t%v\t%d\n", t.Name, t.Type, t.Shape, t.Bytes)
	}
	return w.Flush()
}

func humanCount(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
