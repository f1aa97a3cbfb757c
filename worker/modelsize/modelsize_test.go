package modelsize_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/worker/gguf"
	"github.com/kubeinfer/kubeinfer/worker/memplan"
	"github.com/kubeinfer/kubeinfer/worker/model/modeltest"
	"github.com/kubeinfer/kubeinfer/worker/modelsize"
)

// modelServer serves a small GGUF model with Range support and counts requests.
func modelServer(t *testing.T) (url string, file []byte, requests *atomic.Int64) {
	t.Helper()
	cfg := modeltest.Small("llama")
	w, err := modeltest.Writer(cfg, modeltest.Tensors(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	requests = &atomic.Int64{}
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		time.Sleep(20 * time.Millisecond) // long enough for concurrent callers to overlap
		http.ServeContent(rw, r, "model.gguf", time.Time{}, bytes.NewReader(b.Bytes()))
	}))
	t.Cleanup(ts.Close)
	return ts.URL + "/model.gguf", b.Bytes(), requests
}

// The plan read over HTTP from the header equals the plan of the whole file, and
// concurrent callers for one digest share one read.
func TestSizerReadsEachDigestOnce(t *testing.T) {
	url, file, requests := modelServer(t)
	f, err := gguf.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := memplan.Options{KVCacheTokens: 512}
	want, err := modelsize.FromHeader(f, opts)
	if err != nil {
		t.Fatal(err)
	}

	s := &modelsize.Sizer{}
	first, err := s.Plan(context.Background(), url, "digest-a", opts)
	if err != nil || first != want {
		t.Fatalf("plan over HTTP = %+v, %v; from the file %+v", first, err, want)
	}
	oneRead := requests.Load()

	s = &modelsize.Sizer{}
	requests.Store(0)
	var wg sync.WaitGroup
	plans := make([]memplan.Plan, 8)
	errs := make([]error, 8)
	for i := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plans[i], errs[i] = s.Plan(context.Background(), url, "digest-b", opts)
		}()
	}
	wg.Wait()
	for i := range plans {
		if errs[i] != nil || plans[i] != want {
			t.Errorf("caller %d: %+v, %v", i, plans[i], errs[i])
		}
	}
	if got := requests.Load(); got != oneRead {
		t.Errorf("8 concurrent callers made %d requests; one read makes %d", got, oneRead)
	}
	// Cached: no request at all, whatever the options.
	requests.Store(0)
	if _, err := s.Plan(context.Background(), url, "digest-b", memplan.Options{KVCacheTokens: 64}); err != nil || requests.Load() != 0 {
		t.Errorf("cached read: %v, %d requests", err, requests.Load())
	}
}

// A failed read is remembered for RetryAfter, then tried again.
func TestSizerRetriesAFailureLater(t *testing.T) {
	url, _, requests := modelServer(t)
	s := &modelsize.Sizer{RetryAfter: 50 * time.Millisecond}
	bad := "http://127.0.0.1:1/model.gguf" // nothing listens on port 1
	if _, err := s.Plan(context.Background(), bad, "digest-c", memplan.Options{}); err == nil {
		t.Fatal("read from a closed port succeeded")
	}
	if _, err := s.Plan(context.Background(), url, "digest-c", memplan.Options{}); err == nil {
		t.Fatal("a failure was forgotten before RetryAfter")
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := s.Plan(context.Background(), url, "digest-c", memplan.Options{}); err != nil || requests.Load() == 0 {
		t.Fatalf("after RetryAfter: %v (%d requests)", err, requests.Load())
	}
}

// TestSizerResolvesHFReferences: an hf:// reference is read from the hub's resolve
// address (HF_ENDPOINT), through its redirect, with the same plan as the plain URL.
func TestSizerResolvesHFReferences(t *testing.T) {
	url, file, _ := modelServer(t)
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/org/repo/resolve/v2/model.gguf" {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, url, http.StatusFound)
	}))
	defer hub.Close()
	t.Setenv("HF_ENDPOINT", hub.URL)
	f, err := gguf.Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	opts := memplan.Options{KVCacheTokens: 512}
	want, _ := modelsize.FromHeader(f, opts)
	got, err := (&modelsize.Sizer{}).Plan(context.Background(), "hf://org/repo/model.gguf@v2", "digest-hf", opts)
	if err != nil || got != want {
		t.Fatalf("plan of the hf:// reference = %+v, %v; want %+v", got, err, want)
	}
}
