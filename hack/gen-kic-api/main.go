// Command gen-kic-api writes worker/cudabackend/kic_api.h from cuda/include/kubeinfer_cuda.h
// (see internal/kicabi). `make generate` runs it from the repository root.
package main

import (
	"fmt"
	"os"

	"github.com/kubeinfer/kubeinfer/internal/kicabi"
)

func main() {
	header, err := os.ReadFile(kicabi.HeaderPath)
	if err == nil {
		var out []byte
		if out, err = kicabi.Generate(string(header)); err == nil {
			err = os.WriteFile(kicabi.GeneratedPath, out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-kic-api:", err)
		os.Exit(1)
	}
}
