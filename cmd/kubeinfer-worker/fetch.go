package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/worker/fetch"
	"github.com/kubeinfer/kubeinfer/worker/narration"
)

func init() {
	commands["fetch"] = command{summary: "download and verify a model into a directory (init container)", run: runFetch}
}

func runFetch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("fetch", "--url URL --sha256 HEX --dest DIR", e.stderr)
	rawURL := fs.String("url", "", "model URL (required)")
	sum := fs.String("sha256", "", "expected SHA-256 of the file, hex (required)")
	dest := fs.String("dest", "/models", "directory to write model.gguf into")
	attempts := fs.Int("attempts", 8, "download attempts before giving up")
	servedName := fs.String("served-name", "", "model name in the narration (default: the file name without .gguf)")
	stallTimeout := fs.Duration("stall-timeout", time.Minute,
		"give up an attempt that receives no data for this long (the next one resumes); 0 never does")
	if err := parseWithEnv(fs, args); err != nil {
		return errUsage
	}
	if *rawURL == "" || *sum == "" || fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *stallTimeout == 0 {
		*stallTimeout = -1 // fetch.Options: negative never gives up
	}
	narrator := newFetchNarrator(*rawURL, *servedName, e.log)
	// The narration outlives the download: its last progress is flushed before exit.
	narrCtx, stopNarration := context.WithCancel(context.Background())
	go narrator.Run(narrCtx)
	defer func() { stopNarration(); narrator.Wait() }()

	path, err := fetch.Fetch(ctx, fetch.Options{URL: *rawURL, SHA256: *sum, Dest: *dest, Attempts: *attempts, Log: e.log,
		StallTimeout: *stallTimeout, Progress: narrator.OnModelDownloading,
		Downloaded: func(size int64, took time.Duration) { narrator.OnModelDownloaded(uint64(size), took) }})
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

// newFetchNarrator reports the download's progress as the worker reports a load's: in the
// log, and as a ModelDownloading Event on the InferenceWorker when the operator's
// environment says which one. Events name only the URL's host: the path or query may
// carry a token.
func newFetchNarrator(rawURL, servedName string, log logr.Logger) *narration.Narrator {
	u, err := url.Parse(rawURL)
	host := ""
	if err == nil {
		host = u.Host
		if servedName == "" {
			servedName = modelNameFromPath(u.Path)
		}
	}
	cfg := narration.Config{Log: log.WithName("narration"), ServedName: servedName, ModelSource: host, Target: host}
	narrateToPod(&cfg, log)
	return narration.New(cfg)
}

// modelNameFromPath is the file name of a URL path without .gguf.
func modelNameFromPath(p string) string {
	base := path.Base(p)
	if base == "." || base == "/" {
		return ""
	}
	return strings.TrimSuffix(base, ".gguf")
}
