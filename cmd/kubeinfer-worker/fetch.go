package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/fetch"
)

func init() {
	commands["fetch"] = command{summary: "download and verify a model into a directory (init container)", run: runFetch}
}

func runFetch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("fetch", "--url URL --sha256 HEX --dest DIR", e.stderr)
	url := fs.String("url", "", "model URL (required)")
	sum := fs.String("sha256", "", "expected SHA-256 of the file, hex (required)")
	dest := fs.String("dest", "/models", "directory to write model.gguf into")
	attempts := fs.Int("attempts", 8, "download attempts before giving up")
	if err := parseWithEnv(fs, args); err != nil {
		return errUsage
	}
	if *url == "" || *sum == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	path, err := fetch.Fetch(ctx, fetch.Options{URL: *url, SHA256: *sum, Dest: *dest, Attempts: *attempts, Log: e.log})
	if err != nil {
		var mismatch *fetch.DigestMismatchError
		if errors.As(err, &mismatch) {
			err = fmt.Errorf("downloaded file is not the expected one: %w", err)
		}
		return exitCodeError{code: v1alpha1.FetchExitFailed, err: err}
	}
	fmt.Fprintln(e.stdout, path)
	return nil
}
