package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

func init() {
	commands["inspect"] = command{summary: "describe a GGUF model file", run: runInspect}
}

func runInspect(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("inspect", "[--metadata] FILE", e.stderr)
	showMeta := fs.Bool("metadata", false, "also print every metadata key")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info := model.Inspect(f)

	w := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
	family := string(info.Family)
	if family == "" {
		family = "unsupported"
	}
	fmt.Fprintf(w, "file:\t%s (GGUF v%d)\n", path, f.Version)
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
		if h.Family == model.FamilyLlama {
			fmt.Fprintf(w, "rope:\t%s, %d dims, base %g, scale %g, freq factors %v\n",
				h.RopeMode, h.RopeDim, h.RopeFreqBase, h.RopeFreqScale, h.RopeFreqFactors != nil)
		}
	} else {
		fmt.Fprintf(w, "hyperparameters:\t%v\n", info.HyperErr)
	}
	sizes := make([]string, 0, len(info.BytesByType))
	for _, t := range info.SortedTypes() {
		sizes = append(sizes, fmt.Sprintf("%s %s", t, humanBytes(info.BytesByType[t])))
	}
	fmt.Fprintf(w, "tensor data:\t%s (%s)\n", humanBytes(info.TotalBytes), strings.Join(sizes, ", "))
	w.Flush()

	if *showMeta {
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
