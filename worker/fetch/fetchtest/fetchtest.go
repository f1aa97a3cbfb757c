// Package fetchtest serves model files for download tests: slowly, for tests that watch a
// download's progress, and like the Hugging Face hub (a token, a redirect to a CDN, an
// ETag, a connection that drops mid-file).
package fetchtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Hub behaves like the Hugging Face hub for one file: GET
// /OWNER/REPO/resolve/REVISION/PATH on the hub asks for a token (401 without it), then
// redirects (302) to a signed URL on a second server, the CDN, as the hub does for large
// files. The CDN refuses a request that still carries an Authorization header (as a
// signed S3 URL does: one credential only), sends a strong ETag, and honours Range and
// If-Range; DropAfter cuts its first transfer after that many bytes by dropping the
// connection. Counters say what each side saw; a ranged transfer is one that started
// after byte 0.
type Hub struct {
	// Hub and CDN are the two servers; HF_ENDPOINT is Hub.URL.
	Hub, CDN *httptest.Server
	// Owner, Repo, Revision and Path name the file; Token is what "Bearer " must carry
	// ("" serves without one).
	Owner, Repo, Revision, Path, Token string
	Data                               []byte
	// DropAfter > 0 drops the connection of the CDN's first transfer after that many bytes.
	DropAfter int

	mu                                       sync.Mutex
	hubRequests, unauthorized, cdnRequests   int
	fullTransfers, rangeTransfers, sentBytes int
	cdnSawAuthorization                      bool
	ranges, ifRanges                         []string
}

// HubStats is what a Hub saw.
type HubStats struct {
	// HubRequests counts resolve requests, Unauthorized those refused for a missing or
	// wrong token; CDNRequests the requests for the bytes, of which FullTransfers started
	// at byte 0 and RangeTransfers resumed.
	HubRequests, Unauthorized, CDNRequests, FullTransfers, RangeTransfers int
	// SentBytes is the body bytes the CDN sent in all.
	SentBytes int
	// CDNSawAuthorization: some request reached the CDN with an Authorization header.
	CDNSawAuthorization bool
	// Ranges and IfRanges are the Range and If-Range headers of each CDN request.
	Ranges, IfRanges []string
}

// Stats is a snapshot of the counters.
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HubStats{HubRequests: h.hubRequests, Unauthorized: h.unauthorized, CDNRequests: h.cdnRequests,
		FullTransfers: h.fullTransfers, RangeTransfers: h.rangeTransfers, SentBytes: h.sentBytes,
		CDNSawAuthorization: h.cdnSawAuthorization, Ranges: slices.Clone(h.ranges), IfRanges: slices.Clone(h.ifRanges)}
}

// Ref is the file's hf:// reference.
func (h *Hub) Ref() string {
	return fmt.Sprintf("hf://%s/%s/%s@%s", h.Owner, h.Repo, h.Path, h.Revision)
}

// ETag is the CDN's strong validator of Data.
func (h *Hub) ETag() string {
	sum := sha256.Sum256(h.Data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// StartHub starts a hub serving data as owner/repo's path at revision main, behind token;
// both servers close with the test.
func StartHub(t testing.TB, data []byte, token string) *Hub {
	t.Helper()
	h := &Hub{Owner: "kubeinfer-test", Repo: "tiny-GGUF", Revision: "main", Path: "gpt2.gguf", Token: token, Data: data}
	h.CDN = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.Hub = httptest.NewServer(http.HandlerFunc(h.serveHub))
	t.Cleanup(h.Hub.Close)
	t.Cleanup(h.CDN.Close)
	return h
}

func (h *Hub) serveHub(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.hubRequests++
	h.mu.Unlock()
	want := fmt.Sprintf("/%s/%s/resolve/%s/%s", h.Owner, h.Repo, h.Revision, h.Path)
	if r.URL.Path != want {
		http.Error(w, `{"error":"Entry not found"}`, http.StatusNotFound)
		return
	}
	if h.Token != "" && r.Header.Get("Authorization") != "Bearer "+h.Token {
		h.mu.Lock()
		h.unauthorized++
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"Access to model %s/%s is restricted. You must have access to it and be authenticated to access it. Please log in."}`, h.Owner, h.Repo)
		return
	}
	w.Header().Set("X-Linked-Etag", h.ETag())
	w.Header().Set("X-Linked-Size", strconv.Itoa(len(h.Data)))
	http.Redirect(w, r, h.CDN.URL+"/repos/"+strings.Trim(h.ETag(), `"`)+"?X-Amz-Signature=test-signature", http.StatusFound)
}

func (h *Hub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.cdnRequests++
	first := h.cdnRequests == 1
	h.ranges = append(h.ranges, r.Header.Get("Range"))
	h.ifRanges = append(h.ifRanges, r.Header.Get("If-Range"))
	if r.Header.Get("Authorization") != "" {
		h.cdnSawAuthorization = true
	}
	h.mu.Unlock()
	if r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>", http.StatusBadRequest)
		return
	}
	start, end := 0, len(h.Data) // end exclusive
	ranged := false
	if spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
		from, to, _ := strings.Cut(spec, "-")
		s, err1 := strconv.Atoi(from)
		e, err2 := strconv.Atoi(to)
		if err2 != nil {
			e = len(h.Data) - 1
		}
		ir := r.Header.Get("If-Range")
		if err1 == nil && s < len(h.Data) && s <= e && (ir == "" || ir == h.ETag()) {
			start, end, ranged = s, min(e+1, len(h.Data)), true
		}
	}
	w.Header().Set("ETag", h.ETag())
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.Itoa(end-start))
	h.mu.Lock()
	if ranged {
		h.rangeTransfers++
	} else {
		h.fullTransfers++
	}
	h.mu.Unlock()
	if ranged {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, len(h.Data)))
		w.WriteHeader(http.StatusPartialContent)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	stop := end
	if first && h.DropAfter > 0 {
		stop = min(start+h.DropAfter, end)
	}
	n, _ := w.Write(h.Data[start:stop])
	h.mu.Lock()
	h.sentBytes += n
	h.mu.Unlock()
	if stop < end {
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection drops mid-file
	}
}
