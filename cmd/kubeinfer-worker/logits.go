package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/cudabackend"
	"github.com/kubeinfer/kubeinfer/worker/engine"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model"
)

func init() {
	commands["logits"] = command{summary: "print or save the logits of given token ids (checks against other implementations)", run: runLogits}
}

// runLogits feeds token ids straight to the engine, with no tokenizer, and writes the
// next-token logits of every position as a float32 .npy array [positions, vocab], so
// another implementation (transformers on the same weights, hack/realshape) can be
// compared with ours number for number.
func runLogits(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("logits", "--model FILE --tokens ID,ID,... [--mode prefill|decode] [--device cpu|cuda|auto] [-o FILE.npy]", e.stderr)
	path := fs.String("model", "", "GGUF model file (required)")
	arch := fs.String("arch", "", "declared architecture family, llama or gpt (optional)")
	tokens := fs.String("tokens", "", "comma-separated token ids fed as they are (no BOS is added) (required)")
	mode := fs.String("mode", "prefill", "prefill: one Prefill of all tokens; decode: Prefill of the first token, then one Decode per token")
	device := fs.String("device", "auto", "engine: cpu, cuda, or auto (CUDA when available)")
	cudaLib := fs.String("cuda-lib", "", "path of libkubeinfer_cuda.so (default: $KUBEINFER_CUDA_LIB, next to the binary, system paths)")
	noGraphs := fs.Bool("no-graphs", false, "run CUDA decode steps without graph capture")
	gpus := fs.Int("gpus", 1, "GPUs to split the model over (tensor parallelism), as serve --gpus")
	out := fs.String("o", "", "write the logits here as a float32 .npy [positions, vocab] (default: print a summary only)")
	top := fs.Int("top", 5, "print the top N ids and logits of each position")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ids, err := parseTokenIDs(*tokens)
	if *path == "" || err != nil || (*mode != "prefill" && *mode != "decode") || *top < 0 || fs.NArg() != 0 {
		if err != nil {
			fmt.Fprintln(e.stderr, err)
		}
		fs.Usage()
		return errUsage
	}
	var family model.Family
	if *arch != "" {
		if family, err = model.ParseFamily(*arch); err != nil {
			return err
		}
	}
	m, err := model.Load(*path, family)
	if err != nil {
		return err
	}
	defer m.Close()
	start := time.Now()
	backend, note, err := cudabackend.Select(m, *device, cudabackend.Options{LibPath: *cudaLib, DisableGraphs: *noGraphs,
		GPUs: *gpus, Memory: memplan.Options{KVCacheTokens: len(ids)}})
	if err != nil {
		return err
	}
	defer backend.Close()
	if note != "" {
		e.log.Info(note)
	}
	loaded := time.Since(start)
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	rows, err := positionLogits(backend, ids, *mode == "decode")
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "model %s (%s), engine %s on %s, loaded in %s, %d tokens (%s): logits [%d, %d]\n", *path, m.Hyper.Arch,
		backend.Name(), backend.Device(), loaded.Round(time.Millisecond), len(ids), *mode, len(rows), m.Hyper.VocabSize)
	for i, r := range rows {
		if *top == 0 {
			break
		}
		fmt.Fprintf(e.stdout, "  pos %d (token %d): %s\n", i, ids[i], topLogits(r, *top))
	}
	if *out == "" {
		return nil
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := writeNPY(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", *out, err)
	}
	return f.Close()
}

// parseTokenIDs reads "1, 2,3" as ids; at least one is required.
func parseTokenIDs(s string) ([]int, error) {
	var ids []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, err := strconv.Atoi(f)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("--tokens: %q is not a token id", f)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, errors.New("--tokens: no token ids")
	}
	return ids, nil
}

// positionLogits runs ids through a new sequence and returns the next-token logits
// after each position: all at once from one Prefill, or (decode) from a Prefill of the
// first token followed by one single-sequence Decode per token, the path generation takes.
func positionLogits(b engine.Backend, ids []int, decode bool) ([][]float32, error) {
	seq, err := b.NewSequence(len(ids))
	if err != nil {
		return nil, err
	}
	defer b.FreeSequence(seq)
	if !decode {
		return b.Prefill(seq, ids, true)
	}
	rows, err := b.Prefill(seq, ids[:1], false)
	if err != nil {
		return nil, err
	}
	for _, id := range ids[1:] {
		out, err := b.Decode([]engine.DecodeInput{{Seq: seq, Token: id}})
		if err != nil {
			return nil, err
		}
		rows = append(rows, out[0])
	}
	return rows, nil
}

// topLogits formats the n largest entries of x as "id:logit ...", largest first.
func topLogits(x []float32, n int) string {
	if n <= 0 {
		return ""
	}
	best := make([]int, 0, n+1)
	for i, v := range x {
		if len(best) == n && v <= x[best[n-1]] {
			continue
		}
		j := len(best)
		if j < n {
			best = append(best, i)
		} else {
			j = n - 1
		}
		for ; j > 0 && v > x[best[j-1]]; j-- {
			best[j] = best[j-1]
		}
		best[j] = i
	}
	parts := make([]string, len(best))
	for k, i := range best {
		parts[k] = fmt.Sprintf("%d:%.4f", i, x[i])
	}
	return strings.Join(parts, " ")
}

// writeNPY writes rows (all of one length) as a little-endian float32 array in the
// NumPy .npy format, version 1.0: numpy.load reads it as shape (len(rows), len(rows[0])).
func writeNPY(w io.Writer, rows [][]float32) error {
	cols := 0
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	for i, r := range rows {
		if len(r) != cols {
			return fmt.Errorf("row %d has %d values, row 0 has %d", i, len(r), cols)
		}
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(rows), cols)
	// magic (6) + version (2) + header length (2) + header + '\n', padded to 64 bytes.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	bw := bufio.NewWriter(w)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	buf := make([]byte, 4*cols)
	for _, r := range rows {
		for i, v := range r {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
