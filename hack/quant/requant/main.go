// Command requant checks the worker's quantizers against llama-quantize on
// whole models: for every quantized tensor of each quantized file, it encodes
// the same tensor of the F32 file it was made from with gguf.Quantize and
// compares the bytes. hack/quant/make-fixtures.sh runs it on the fixtures.
//
//	requant BASE_f32.gguf QUANT.gguf... [BASE_f32.gguf QUANT.gguf...]...
//
// An argument ending in _f32.gguf starts a new base model.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "requant:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var base *gguf.File
	bad := 0
	for _, path := range args {
		if strings.HasSuffix(path, "_f32.gguf") {
			if base != nil {
				base.Close()
			}
			f, err := gguf.Open(path)
			if err != nil {
				return err
			}
			base = f
			continue
		}
		if base == nil {
			return fmt.Errorf("%s: no base model before it", path)
		}
		n, mismatched, err := check(base, path)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d quantized tensors, %d bit-identical to the Go quantizers\n", filepath.Base(path), n, n-len(mismatched))
		for _, m := range mismatched {
			fmt.Printf("  MISMATCH %s\n", m)
		}
		bad += len(mismatched)
	}
	if base != nil {
		base.Close()
	}
	if bad > 0 {
		return fmt.Errorf("%d tensors differ", bad)
	}
	return nil
}

func check(base *gguf.File, path string) (n int, mismatched []string, err error) {
	q, err := gguf.Open(path)
	if err != nil {
		return 0, nil, err
	}
	defer q.Close()
	for _, t := range q.Tensors {
		bt, ok := base.Tensor(t.Name)
		if !ok {
			return 0, nil, fmt.Errorf("%s: tensor %s is not in the base model", path, t.Name)
		}
		if t.Type == bt.Type {
			continue
		}
		values, err := base.Float32(t.Name)
		if err != nil {
			return 0, nil, err
		}
		got, err := gguf.Quantize(t.Type, values)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: tensor %s: %w", path, t.Name, err)
		}
		n++
		if !bytes.Equal(got, q.TensorData(t)) {
			mismatched = append(mismatched, fmt.Sprintf("%s (%s)", t.Name, t.Type))
		}
	}
	return n, mismatched, nil
}
