package gguf

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenDir holds ggml's own output for every supported quantized type (and
// F16/BF16), made by hack/quant/make-golden.sh with hack/llamacpp's ggml-ref:
// <type>.rand random blocks and <type>.rand.f32.gz their to_float,
// <type>.quant the ggml_quantize_chunk of src.f32.gz.
const goldenDir = "testdata/quant"

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	if err != nil {
		t.Fatalf("%v (hack/quant/make-golden.sh writes it)", err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func floats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// goldenTypes are the types with golden data: every supported type but F32.
func goldenTypes() []GGMLType {
	var out []GGMLType
	for _, typ := range SupportedTypes() {
		if typ != TypeF32 {
			out = append(out, typ)
		}
	}
	return out
}

// Every supported type decodes ggml's random blocks to exactly ggml's floats.
func TestDequantizeBitExactWithGGML(t *testing.T) {
	for _, typ := range goldenTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			name := strings.ToLower(typ.String())
			blocks := readGolden(t, name+".rand")
			want := floats(readGolden(t, name+".rand.f32.gz"))
			got := make([]float32, len(want))
			if err := DequantizeInto(typ, got, blocks); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("element %d (block %d): got %g (%#08x), ggml %g (%#08x)", i, i/int(typ.BlockSize()),
						got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		})
	}
}

// Every supported type encodes the fixed rows to exactly ggml's bytes.
func TestQuantizeBitExactWithGGML(t *testing.T) {
	src := floats(readGolden(t, "src.f32.gz"))
	for _, typ := range goldenTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			want := readGolden(t, strings.ToLower(typ.String())+".quant")
			got, err := Quantize(typ, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d bytes, ggml %d", len(got), len(want))
			}
			bs := int(typ.BlockBytes())
			for i := range want {
				if got[i] != want[i] {
					b := i / bs
					t.Fatalf("byte %d (block %d, offset %d, row %d): got %#02x, ggml %#02x\n got block % x\nggml block % x",
						i, b, i%bs, b*int(typ.BlockSize())/256, got[i], want[i], got[b*bs:(b+1)*bs], want[b*bs:(b+1)*bs])
				}
			}
		})
	}
}

// The dot product of a row with x equals, up to float32 summation order, the
// float64 dot product of its dequantization.
func TestDotMatchesDequantize(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, typ := range SupportedTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			const n = 1024
			w, x := make([]float32, n), make([]float32, n)
			for i := range w {
				w[i] = float32(r.NormFloat64())
				x[i] = float32(r.NormFloat64())
			}
			row, err := Quantize(typ, w)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := typ.Kernels()
			deq := make([]float32, n)
			k.Dequantize(deq, row)
			var want, mag float64
			for i := range deq {
				want += float64(deq[i]) * float64(x[i])
				mag += math.Abs(float64(deq[i]) * float64(x[i]))
			}
			sums := make([]float32, n/16)
			SumsOf16(sums, x)
			got := float64(k.Dot(row, x, sums))
			if d := math.Abs(got - want); d > 1e-5*mag {
				t.Fatalf("dot %g, dequantized %g: |diff| %g > 1e-5 × %g", got, want, d, mag)
			}
		})
	}
}

// Quantizing and decoding stays within each type's resolution: a check of the
// encoders that does not depend on ggml.
func TestQuantizeRoundTripError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	// RMS error relative to the RMS of N(0,1) inputs.
	limits := map[GGMLType]float64{
		TypeF32: 0, TypeF16: 1e-3, TypeBF16: 5e-3, TypeQ8_0: 0.01, TypeQ6_K: 0.02, TypeQ5_K: 0.04, TypeQ5_1: 0.04,
		TypeQ5_0: 0.05, TypeQ4_K: 0.08, TypeQ4_1: 0.09, TypeQ4_0: 0.11, TypeIQ4_NL: 0.11, TypeIQ4_XS: 0.11,
		TypeQ3_K: 0.2, TypeQ2_K: 0.4,
	}
	for _, typ := range SupportedTypes() {
		limit, ok := limits[typ]
		if !ok {
			t.Fatalf("no error limit for %s", typ)
		}
		v := make([]float32, 4096)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		enc, err := Quantize(typ, v)
		if err != nil {
			t.Fatal(err)
		}
		dec := make([]float32, len(v))
		if err := DequantizeInto(typ, dec, enc); err != nil {
			t.Fatal(err)
		}
		var se float64
		for i := range v {
			se += (float64(dec[i]) - float64(v[i])) * (float64(dec[i]) - float64(v[i]))
		}
		if rms := math.Sqrt(se / float64(len(v))); rms > limit {
			t.Errorf("%s: RMS error %.4f > %.4f", typ, rms, limit)
		}
	}
}

// The table is the one list: sizes agree with ggml's ggml-common.h layouts for
// every supported type, and the supported list is what the messages print.
func TestSupportedTypes(t *testing.T) {
	want := "F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16"
	if got := SupportedTypeNames(); got != want {
		t.Errorf("supported types %q, want %q", got, want)
	}
	for _, typ := range []GGMLType{TypeIQ2_XXS, TypeIQ1_S, TypeMXFP4, TypeTQ1_0, TypeQ8_K, TypeI8, GGMLType(4), GGMLType(1000)} {
		if typ.Supported() {
			t.Errorf("%s is supported", typ)
		}
	}
	if typ, ok := ParseType("q4_k"); !ok || typ != TypeQ4_K {
		t.Errorf("ParseType(q4_k) = %v, %v", typ, ok)
	}
}

// splitMix64 is the generator hack/quant/golden.py's big_source uses.
type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// bigSource is golden.py's big_source: rows of 256 in eight kinds, every value
// built from integers with exact (or singly rounded) float32 operations, so
// Python and Go make the same bits.
func bigSource(rows int) []float32 {
	r := splitMix64(20260118)
	sym := func() float32 { return float32(int64(r.next()>>40)-1<<23) / (1 << 23) }
	out := make([]float32, 0, rows*256)
	for row := range rows {
		kind := row % 8
		scale := float32(math.Ldexp(1, int(r.next()>>60)-8))
		for i := range 256 {
			var v float32
			switch kind {
			case 0:
				v = sym() * scale
			case 1:
				s := int64(r.next()>>40) + int64(r.next()>>40) + int64(r.next()>>40) + int64(r.next()>>40) - 1<<25
				v = float32(s) / (1 << 24) * scale
			case 2:
				a := sym()
				v = float32(a*sym()) * scale
			case 3:
				v = float32(int64(r.next()>>40)+1<<22) / (1 << 24) * scale
			case 4:
				if r.next()%8 == 0 && (i < 64 || i >= 96) {
					v = sym() * scale
				}
			case 5:
				v = float32(int64(r.next()%17)-8) * scale
			case 6:
				x := sym() * scale
				if r.next()%32 == 0 {
					x *= 64
				}
				v = x
			default:
				v = -(float32(r.next()>>40) / (1 << 24) * 64) * scale
			}
			out = append(out, v)
		}
	}
	return out
}

// Over 256 rows of varied values, quantizing gives ggml's bytes and decoding
// those blocks ggml's floats (compared by SHA-256: big.sha256 holds ggml's).
func TestBigBitExactWithGGML(t *testing.T) {
	want := map[string][2]string{}
	for _, line := range strings.Split(string(readGolden(t, "big.sha256")), "\n") {
		if f := strings.Fields(line); len(f) == 3 && !strings.HasPrefix(line, "#") {
			want[f[0]] = [2]string{f[1], f[2]}
		}
	}
	src := bigSource(256)
	for _, typ := range goldenTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			w, ok := want[typ.String()]
			if !ok {
				t.Fatalf("big.sha256 has no line for %s", typ)
			}
			enc, err := Quantize(typ, src)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(enc)); got != w[0] {
				t.Errorf("quantized bytes differ from ggml's (sha256 %s, ggml %s)", got, w[0])
			}
			dec := make([]float32, len(src))
			if err := DequantizeInto(typ, dec, enc); err != nil {
				t.Fatal(err)
			}
			raw := make([]byte, 4*len(dec))
			for i, v := range dec {
				binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
			}
			if got := fmt.Sprintf("%x", sha256.Sum256(raw)); got != w[1] {
				t.Errorf("dequantized floats differ from ggml's (sha256 %s, ggml %s)", got, w[1])
			}
		})
	}
}
