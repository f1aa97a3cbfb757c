package modelsize

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/kubeinfer/kubeinfer/internal/hfhub"
	"github.com/kubeinfer/kubeinfer/internal/httprange"
	"github.com/kubeinfer/kubeinfer/worker/gguf"
)

// HeaderStats says what a header-only read cost.
type HeaderStats struct {
	Requests  int
	BytesRead int64
	FileSize  int64
}

// ReadHeader parses only the GGUF header of the file at url with HTTP Range requests:
// the 24-byte preamble first (its Content-Range gives the file size), then growing
// ranges that end at a lower bound of the header's end (gguf.ParseHeader), so no
// tensor data is ever asked for. At most maxBytes are read (0 means
// gguf.MaxHeaderBytes); ctx bounds the time. A server that ignores Range is refused
// rather than downloaded from.
func ReadHeader(ctx context.Context, client *http.Client, url string, maxBytes uint64) (*gguf.File, HeaderStats, error) {
	if client == nil {
		client = http.DefaultClient
	}
	if maxBytes == 0 {
		maxBytes = gguf.MaxHeaderBytes
	}
	url, err := hfhub.Resolve(url)
	if err != nil {
		return nil, HeaderStats{}, err
	}
	r := &rangeReader{ctx: ctx, client: client, url: url}
	const preamble = 24 // magic, version, tensor count, kv count
	if _, err := r.fetch(0, preamble); err != nil {
		return nil, r.stats, err
	}
	f, err := gguf.ParseHeaderLimit(r, r.stats.FileSize, maxBytes)
	if err != nil {
		return nil, r.stats, fmt.Errorf("%s: %w", url, err)
	}
	return f, r.stats, nil
}

// rangeReader is an io.ReaderAt over HTTP Range requests that keeps the prefix it
// has read, so the parser's growing reads only fetch what is new.
type rangeReader struct {
	ctx    context.Context
	client *http.Client
	url    string
	prefix []byte
	stats  HeaderStats
}

func (r *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if end > int64(len(r.prefix)) {
		if off > int64(len(r.prefix)) {
			return 0, fmt.Errorf("read at %d past the %d bytes read so far", off, len(r.prefix))
		}
		if _, err := r.fetch(int64(len(r.prefix)), end); err != nil {
			return 0, err
		}
	}
	return copy(p, r.prefix[off:end]), nil
}

// fetch appends bytes [from, to) of the file to the prefix.
func (r *rangeReader) fetch(from, to int64) ([]byte, error) {
	if r.stats.FileSize > 0 {
		to = min(to, r.stats.FileSize)
	}
	if to <= from {
		return nil, io.ErrUnexpectedEOF
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to-1))
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", r.url, err)
	}
	defer resp.Body.Close()
	r.stats.Requests++
	if resp.StatusCode != http.StatusPartialContent {
		return nil, fmt.Errorf("read header of %s: %s (want 206 Partial Content: the server must support Range requests)", r.url, resp.Status)
	}
	start, size, ok := httprange.ParseContentRange(resp.Header.Get("Content-Range"))
	if !ok || start != from || size <= 0 {
		return nil, fmt.Errorf("read header of %s: bad Content-Range %q for bytes %d-%d", r.url, resp.Header.Get("Content-Range"), from, to-1)
	}
	if r.stats.FileSize == 0 {
		r.stats.FileSize = size
		to = min(to, size)
	}
	buf := make([]byte, to-from)
	n, err := io.ReadFull(resp.Body, buf)
	r.stats.BytesRead += int64(n)
	if err != nil {
		return nil, fmt.Errorf("read header of %s: bytes %d-%d: %w", r.url, from, to-1, err)
	}
	r.prefix = append(r.prefix, buf...)
	return buf, nil
}
