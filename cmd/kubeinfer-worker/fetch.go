package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
	"github.com/kubeinfer/kubeinfer/internal/hfhub"
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
	headersDir := fs.String("headers-dir", "",
		"directory of HTTP headers to send to the URL's host only, one file each: the file name is the header's name, its content the value (a mounted Secret)")
	cacheDir := fs.String("cache-dir", "", "keep the verified file in this directory shared by the node's pods (download once, then link)")
	cacheLimit := fs.Int64("cache-size-limit", 0, "bytes the cache may hold before its least recently used unlinked files are removed; 0: no limit")
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
	headers, err := readHeaders(*headersDir)
	if err != nil {
		return exitCodeError{code: v1alpha1.FetchExitFailed, err: err}
	}
	resolved, err := hfhub.Resolve(*rawURL)
	if err != nil {
		return exitCodeError{code: v1alpha1.FetchExitFailed, err: err}
	}
	narrator := newFetchNarrator(resolved, *servedName, e.log)
	// The narration outlives the download: its last progress is flushed before exit.
	narrCtx, stopNarration := context.WithCancel(context.Background())
	go narrator.Run(narrCtx)
	defer func() { stopNarration(); narrator.Wait() }()

	path, err := fetch.Fetch(ctx, fetch.Options{URL: resolved, SHA256: *sum, Dest: *dest, Attempts: *attempts, Log: e.log,
		Headers: headers, CacheDir: *cacheDir, CacheSizeLimit: *cacheLimit,
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

// readHeaders reads a directory of header files, as Kubernetes mounts a Secret: each
// regular file (or link to one) whose name does not start with "." is a header. It
// names the headers it read, never their values.
func readHeaders(dir string) (http.Header, error) {
	if dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("--headers-dir: %w", err)
	}
	h := http.Header{}
	for _, de := range ents {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue // the Secret volume's ..data links
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if !validHeaderName(name) {
			return nil, fmt.Errorf("--headers-dir: %q is not an HTTP header name: the Secret's keys must be header names, e.g. Authorization", name)
		}
		value, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("--headers-dir: %w", err)
		}
		v := strings.TrimRight(string(value), "\r\n")
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("--headers-dir: the value of %s spans lines: a header value is one line", name)
		}
		h.Set(name, v)
	}
	return h, nil
}

// validHeaderName: a token of RFC 9110 (letters, digits and !#$%&'*+-.^_`|~).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}
