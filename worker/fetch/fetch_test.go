package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubeinfer/kubeinfer/api/v1alpha1"
)

var payload = []byte(strings.Repeat("kubeinfer model bytes ", 5000))

func digest(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// fileServer serves payload with Range support; cutFirst makes the first
// full request stop halfway and drop the connection.
type fileServer struct {
	mu       sync.Mutex
	requests int
	ranges   []string
	cutFirst bool
}

func (s *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	if s.cutFirst && n == 1 {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.WriteHeader(http.StatusOK)
		w.Write(payload[:len(payload)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	}
	http.ServeContent(w, r, "model.gguf", time.Time{}, strings.NewReader(string(payload)))
}

func opts(url, dir, sum string) Options {
	return Options{URL: url, SHA256: sum, Dest: dir, Backoff: time.Millisecond, Attempts: 3}
}

func TestFetchSuccessAndNoop(t *testing.T) {
	fs := &fileServer{}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	dir := t.TempDir()
	path, err := Fetch(context.Background(), opts(srv.URL, dir, digest(payload)))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(payload) || path != filepath.Join(dir, "model.gguf") {
		t.Fatalf("wrong file at %s", path)
	}
	if _, err := os.Stat(filepath.Join(dir, partialName)); !os.IsNotExist(err) {
		t.Errorf("partial file left behind: %v", err)
	}
	// Already there and verified: the server is not asked again.
	if _, err := Fetch(context.Background(), opts(srv.URL, dir, digest(payload))); err != nil {
		t.Fatal(err)
	}
	if fs.requests != 1 {
		t.Errorf("server got %d requests, want 1", fs.requests)
	}
}

func TestFetchResume(t *testing.T) {
	fs := &fileServer{cutFirst: true}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	dir := t.TempDir()
	path, err := Fetch(context.Background(), opts(srv.URL, dir, digest(payload)))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(payload) {
		t.Fatal("resumed file differs")
	}
	if len(fs.ranges) != 2 || fs.ranges[0] != "" || !strings.HasPrefix(fs.ranges[1], "bytes=") || fs.ranges[1] == "bytes=0-" {
		t.Errorf("Range headers = %q, want none then a resume", fs.ranges)
	}
}

func TestFetchDigestMismatch(t *testing.T) {
	srv := httptest.NewServer(&fileServer{})
	defer srv.Close()
	wrong := digest([]byte("other"))
	_, err := Fetch(context.Background(), opts(srv.URL, t.TempDir(), wrong))
	var m *DigestMismatchError
	if !errors.As(err, &m) {
		t.Fatalf("err = %v, want a DigestMismatchError", err)
	}
	if !strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), digest(payload)) {
		t.Errorf("error %q does not name both digests", err)
	}
}

func TestFetchNotFoundIsNotRetried(t *testing.T) {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n++; http.NotFound(w, r) }))
	defer srv.Close()
	if _, err := Fetch(context.Background(), opts(srv.URL, t.TempDir(), digest(payload))); err == nil || n != 1 {
		t.Errorf("err = %v after %d requests, want an error after 1", err, n)
	}
}

// progressLog keeps every progress report with when it came.
type progressLog struct {
	mu    sync.Mutex
	got   []v1alpha1.LoadProgress
	times []time.Time
}

func (l *progressLog) add(p v1alpha1.LoadProgress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, p)
	l.times = append(l.times, time.Now())
}

func (l *progressLog) all() ([]v1alpha1.LoadProgress, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]v1alpha1.LoadProgress(nil), l.got...), append([]time.Time(nil), l.times...)
}

// throttled serves payload in chunks of chunk bytes, one every pause; hangAt > 0 stops
// sending after that many bytes of the first hangs requests, until the client gives up.
type throttled struct {
	chunk    int
	pause    time.Duration
	hangAt   int
	hangs    int
	chunked  bool // no Content-Length
	mu       sync.Mutex
	requests int
	ranges   []string
}

func (s *throttled) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.mu.Unlock()
	start := 0
	if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start); err == nil && start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(payload)-1, len(payload)))
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)-start))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		if !s.chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		}
		w.WriteHeader(http.StatusOK)
	}
	for off := start; off < len(payload); off += s.chunk {
		if s.hangAt > 0 && n <= s.hangs && off >= s.hangAt {
			<-r.Context().Done() // no more data, the connection stays open
			return
		}
		if _, err := w.Write(payload[off:min(off+s.chunk, len(payload))]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		time.Sleep(s.pause)
	}
}

// TestFetchReportsProgressOncePerInterval: a slow download reports rising progress with
// the total, a rate and a time left, no more than once per interval, and ends at 100%.
func TestFetchReportsProgressOncePerInterval(t *testing.T) {
	srv := httptest.NewServer(&throttled{chunk: len(payload) / 40, pause: 15 * time.Millisecond})
	defer srv.Close()
	var log progressLog
	o := opts(srv.URL, t.TempDir(), digest(payload))
	o.ProgressEvery = 100 * time.Millisecond
	o.Progress = log.add
	var size int64
	o.Downloaded = func(n int64, took time.Duration) { size = n }
	if _, err := Fetch(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	got, times := log.all()
	if len(got) < 3 {
		t.Fatalf("%d progress reports for a ~600 ms download, want several", len(got))
	}
	for i, p := range got {
		if p.Total != uint64(len(payload)) || !p.StalledSince.IsZero() {
			t.Errorf("report %d: %+v", i, p)
		}
		if i > 0 && p.Done < got[i-1].Done {
			t.Errorf("report %d went back: %d after %d", i, p.Done, got[i-1].Done)
		}
		// The last report (the end of the transfer) may come at once; the others are spaced.
		if i > 0 && i < len(got)-1 && times[i].Sub(times[i-1]) < 90*time.Millisecond {
			t.Errorf("reports %d and %d %s apart", i-1, i, times[i].Sub(times[i-1]))
		}
	}
	if mid := got[len(got)/2]; mid.BytesPerSecond == 0 || mid.ETA <= 0 || mid.Percent() == 0 || mid.Percent() == 100 {
		t.Errorf("a report halfway: %+v (%s)", mid, mid.Sentence("Downloading"))
	}
	if last := got[len(got)-1]; last.Percent() != 100 {
		t.Errorf("last report %s", last.Sentence("Downloading"))
	}
	if size != int64(len(payload)) {
		t.Errorf("Downloaded told %d bytes", size)
	}
	t.Logf("%d reports, e.g. %s", len(got), got[len(got)/2].Sentence("Downloading"))
}

// TestFetchStallIsReportedAndResumed: a server that stops sending mid-file is reported
// as stalled after StallNotice, given up on after StallTimeout, and the next attempt
// resumes where the data stopped and reports the download moving again.
func TestFetchStallIsReportedAndResumed(t *testing.T) {
	ts := &throttled{chunk: len(payload) / 20, pause: 5 * time.Millisecond, hangAt: len(payload) / 2, hangs: 1}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	var log progressLog
	o := opts(srv.URL, t.TempDir(), digest(payload))
	o.ProgressEvery = 20 * time.Millisecond
	o.StallTimeout, o.StallNotice = 1200*time.Millisecond, 300*time.Millisecond
	o.Progress = log.add
	start := time.Now()
	if _, err := Fetch(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < o.StallTimeout {
		t.Errorf("done in %s, before the stall timeout", took)
	}
	if len(ts.ranges) != 2 || ts.ranges[0] != "" || ts.ranges[1] != fmt.Sprintf("bytes=%d-", len(payload)/2) {
		t.Errorf("Range headers %q, want none then a resume at the stall", ts.ranges)
	}
	got, _ := log.all()
	firstStalled, movedAgain := -1, false
	for i, p := range got {
		switch {
		case !p.StalledSince.IsZero() && firstStalled < 0:
			firstStalled = i
			if p.Done != uint64(len(payload)/2) || p.Percent() != 50 {
				t.Errorf("stalled report at %d bytes", p.Done)
			}
			if s := p.Sentence("Downloading"); !strings.Contains(s, "(50%, no data since ") {
				t.Errorf("stalled sentence %q", s)
			}
		case p.StalledSince.IsZero() && firstStalled >= 0:
			movedAgain = true
		}
	}
	if firstStalled < 0 || !movedAgain {
		t.Errorf("reports never stalled (%d) or never moved again (%v): %+v", firstStalled, movedAgain, got)
	}
}

// TestFetchStallGivesUp: when every attempt stalls, the error says so with the last
// progress, as the init container's termination message (ModelFetchFailed) shows it.
func TestFetchStallGivesUp(t *testing.T) {
	srv := httptest.NewServer(&throttled{chunk: len(payload) / 10, pause: time.Millisecond, hangAt: len(payload) / 5, hangs: 99})
	defer srv.Close()
	o := opts(srv.URL, t.TempDir(), digest(payload))
	o.Attempts = 2
	o.StallTimeout = 200 * time.Millisecond
	_, err := Fetch(context.Background(), o)
	var stall *StallError
	if !errors.As(err, &stall) {
		t.Fatalf("err = %v, want a StallError", err)
	}
	if !strings.Contains(err.Error(), "download stalled: no data for 200ms (last: Downloading 22.0 of 110.0 kB (20%") {
		t.Errorf("error %q", err)
	}
}

// TestFetchUnknownSize: without a Content-Length the progress has bytes and a rate, no
// total, and says so in words.
func TestFetchUnknownSize(t *testing.T) {
	srv := httptest.NewServer(&throttled{chunk: len(payload) / 10, pause: 20 * time.Millisecond, chunked: true})
	defer srv.Close()
	var log progressLog
	o := opts(srv.URL, t.TempDir(), digest(payload))
	o.ProgressEvery = 50 * time.Millisecond
	o.Progress = log.add
	if _, err := Fetch(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	got, _ := log.all()
	last := got[len(got)-1]
	if last.Total != 0 || last.Done != uint64(len(payload)) {
		t.Fatalf("last report %+v", last)
	}
	if s := last.Sentence("Downloading"); !strings.HasPrefix(s, "Downloading 110.0 kB (") || !strings.HasSuffix(s, "kB/s)") {
		t.Errorf("sentence %q", s)
	}
}
