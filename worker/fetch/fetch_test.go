package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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
