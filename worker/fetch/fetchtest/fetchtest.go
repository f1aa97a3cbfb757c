// Package fetchtest serves model files slowly, for tests that watch a download's progress.
package fetchtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// ThrottledServer serves data at about bytesPerSecond, in flushed 4 kB chunks, and honours
// "Range: bytes=N-" so an interrupted download can resume. It closes with the test.
func ThrottledServer(t testing.TB, data []byte, bytesPerSecond int) *httptest.Server {
	t.Helper()
	const chunk = 4 << 10
	pause := time.Duration(float64(chunk) / float64(bytesPerSecond) * float64(time.Second))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := 0
		if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &start); err == nil && start > 0 && start < len(data) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
			w.Header().Set("Content-Length", strconv.Itoa(len(data)-start))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			start = 0
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		}
		for off := start; off < len(data); off += chunk {
			if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			time.Sleep(pause)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
