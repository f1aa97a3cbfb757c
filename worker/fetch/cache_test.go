package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// files serves several files by name, counting the requests for each.
type files struct {
	mu       sync.Mutex
	data     map[string][]byte
	requests map[string]int
	pause    time.Duration // between 10 chunks of each body
}

func (f *files) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	data, ok := f.data[r.URL.Path]
	f.requests[r.URL.Path]++
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	chunk := len(data)/10 + 1
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		time.Sleep(f.pause)
	}
}

func (f *files) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

func newFiles(pause time.Duration, data map[string][]byte) (*files, *httptest.Server) {
	f := &files{data: data, requests: map[string]int{}, pause: pause}
	return f, httptest.NewServer(f)
}

// TestCacheConcurrentPodsDownloadOnce: four pods of one node fetch the same model at once
// through the node's cache: the source sends it once, each pod's volume gets a hard link
// to the cached file, and a later pod needs no request at all.
func TestCacheConcurrentPodsDownloadOnce(t *testing.T) {
	f, srv := newFiles(20*time.Millisecond, map[string][]byte{"/m.gguf": payload})
	defer srv.Close()
	cache := t.TempDir()
	var wg sync.WaitGroup
	dests := make([]string, 4)
	errs := make([]error, 4)
	for i := range dests {
		dests[i] = t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := opts(srv.URL+"/m.gguf", dests[i], digest(payload))
			o.CacheDir = cache
			_, errs[i] = Fetch(context.Background(), o)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
	}
	if n := f.count("/m.gguf"); n != 1 {
		t.Errorf("the source got %d requests for the model, want 1", n)
	}
	cached, err := os.Stat(filepath.Join(cache, cacheSubdir, digest(payload)))
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dests {
		got, err := os.Stat(filepath.Join(d, FileName))
		if err != nil || !os.SameFile(got, cached) {
			t.Errorf("pod %d: %s is not a link to the cached file (%v)", i, d, err)
		}
	}

	// A fifth pod, later: a cache hit, no request.
	o := opts(srv.URL+"/m.gguf", t.TempDir(), digest(payload))
	o.CacheDir = cache
	path, err := Fetch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != string(payload) || f.count("/m.gguf") != 1 {
		t.Errorf("cache hit: %d requests, right bytes: %v", f.count("/m.gguf"), string(b) == string(payload))
	}
}

// TestCacheEvictsLeastRecentlyUsed: past the size limit, the least recently used file
// that no pod links is removed; a file a pod still links, and the one just fetched, stay.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	data := map[string][]byte{}
	for _, name := range []string{"a", "b", "c", "d"} {
		data["/"+name] = []byte(strings.Repeat(name, 1000))
	}
	_, srv := newFiles(0, data)
	defer srv.Close()
	cache := t.TempDir()
	fetch := func(name string, limit int64) string {
		t.Helper()
		dest := t.TempDir()
		o := opts(srv.URL+"/"+name, dest, digest(data["/"+name]))
		o.CacheDir, o.CacheSizeLimit = cache, limit
		if _, err := Fetch(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		return dest
	}
	inCache := func() string {
		var got []string
		for _, name := range []string{"a", "b", "c", "d"} {
			if _, err := os.Stat(filepath.Join(cache, cacheSubdir, digest(data["/"+name]))); err == nil {
				got = append(got, name)
			}
		}
		return strings.Join(got, "")
	}
	const limit = 2500              // two and a half files
	held := fetch("a", limit)       // a pod keeps running with a
	os.RemoveAll(fetch("b", limit)) // b's pod is gone
	os.RemoveAll(fetch("c", limit)) // c's pod too: 3000 bytes now, over the limit
	if got := inCache(); got != "ac" {
		t.Errorf("after a, b, c: cache holds %q, want ac (b evicted: a is linked by a pod, c was just fetched)", got)
	}
	os.RemoveAll(held) // a's pod ends
	os.RemoveAll(fetch("d", limit))
	if got := inCache(); got != "cd" {
		t.Errorf("after d: cache holds %q, want cd (a, now unused, was the least recently used)", got)
	}
}

// TestCacheDirErrorSaysWhatToDo: a cache the pod's user cannot write (the node directory
// the kubelet created for a hostPath, owned by root) is a permanent error that says how to
// prepare the directory. The tests run as root, which no permission stops, so this checks
// the error a failed mkdir gets.
func TestCacheDirErrorSaysWhatToDo(t *testing.T) {
	err := cacheDirError("/var/cache/kubeinfer", &os.PathError{Op: "mkdir", Path: "/var/cache/kubeinfer/sha256", Err: os.ErrPermission})
	var perm permanentError
	if !errors.As(err, &perm) {
		t.Errorf("%v is retried: a permission does not change by waiting", err)
	}
	for _, want := range []string{"not writable by uid", "install -d -o", "--node-cache-dir", "type Claim"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if other := cacheDirError("/c", os.ErrNotExist); !errors.Is(other, os.ErrNotExist) {
		t.Errorf("other errors pass unchanged: %v", other)
	}
}
