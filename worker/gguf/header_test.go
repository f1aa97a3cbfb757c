package gguf

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// recordingReaderAt serves data and remembers the furthest byte asked for.
type recordingReaderAt struct {
	data  []byte
	reads int
	end   int64
}

func (r *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	r.reads++
	r.end = max(r.end, off+int64(len(p)))
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sameHeader compares everything but the tensor data.
func sameHeader(t testing.TB, got, want *File) {
	t.Helper()
	if got.Version != want.Version || got.Alignment != want.Alignment || got.DataOffset != want.DataOffset ||
		got.HeaderSize != want.HeaderSize || !reflect.DeepEqual(got.KVs, want.KVs) || !reflect.DeepEqual(got.Tensors, want.Tensors) {
		t.Fatalf("header-only parse differs from the full parse")
	}
}

func TestParseHeaderReadsOnlyTheHeader(t *testing.T) {
	files := map[string][]byte{"sample": sampleFile(t)}
	paths, _ := filepath.Glob("../testdata/fidelity/*.gguf")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(p)] = data
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			full, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			r := &recordingReaderAt{data: data}
			hdr, err := ParseHeader(r, int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			sameHeader(t, hdr, full)
			if r.end > int64(full.HeaderSize) {
				t.Errorf("read up to byte %d, past the header's end %d", r.end, full.HeaderSize)
			}
			if hdr.HasData() || hdr.TensorData(hdr.Tensors[0]) != nil {
				t.Error("a header-only file must not hand out tensor data")
			}
			t.Logf("%d header bytes of %d in %d reads", full.HeaderSize, len(data), r.reads)
		})
	}
}

func TestParseHeaderHostile(t *testing.T) {
	// Every case Parse rejects, ParseHeader rejects with the same message.
	valid := sampleFile(t)
	for _, data := range [][]byte{nil, []byte("GGML\x03\x00\x00\x00"), header(0, 1<<62), header(1<<40, 0)} {
		_, want := Parse(data)
		_, got := ParseHeader(bytes.NewReader(data), int64(len(data)))
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("ParseHeader error %v, Parse error %v", got, want)
		}
	}
	for n := range len(valid) {
		_, want := Parse(valid[:n])
		_, got := ParseHeader(bytes.NewReader(valid[:n]), int64(n))
		if (want == nil) != (got == nil) {
			t.Fatalf("truncated to %d bytes: ParseHeader %v, Parse %v", n, got, want)
		}
	}
	// A reader that says the file is larger than it serves fails cleanly.
	if _, err := ParseHeader(bytes.NewReader(valid[:100]), int64(len(valid))); err == nil || !strings.Contains(err.Error(), "read header bytes") {
		t.Errorf("short reader: %v", err)
	}
	// The read limit bounds a header that claims to be huge.
	w := NewWriter()
	w.Set("big", String(strings.Repeat("x", 4096)))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseHeaderLimit(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 1024); err == nil ||
		!strings.Contains(err.Error(), "larger than the") {
		t.Errorf("limit: %v", err)
	}
}

// FuzzReadHeader: on any input ParseHeader agrees with Parse about the header
// and never reads past the header's end.
func FuzzReadHeader(f *testing.F) {
	f.Add(sampleFile(f))
	f.Add(header(0, 0))
	f.Add(header(1, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &recordingReaderAt{data: data}
		hdr, err := ParseHeader(r, int64(len(data)))
		full, ferr := Parse(data)
		if (err == nil) != (ferr == nil) {
			t.Fatalf("ParseHeader error %v, Parse error %v", err, ferr)
		}
		if err != nil {
			return
		}
		sameHeader(t, hdr, full)
		if r.end > int64(full.HeaderSize) {
			t.Fatalf("read up to byte %d, past the header's end %d", r.end, full.HeaderSize)
		}
	})
}
