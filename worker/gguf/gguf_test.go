package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleFile builds a file exercising every metadata type, nested arrays and
// each dequantizable tensor type.
func sampleFile(t testing.TB) []byte {
	t.Helper()
	w := NewWriter()
	w.Set("general.architecture", String("llama"))
	w.Set("u8", Uint8(200))
	w.Set("i8", Int8(-100))
	w.Set("u16", Uint16(60000))
	w.Set("i16", Int16(-30000))
	w.Set("u32", Uint32(4000000000))
	w.Set("i32", Int32(-2000000000))
	w.Set("f32", Float32(1.5))
	w.Set("bool", Bool(true))
	w.Set("u64", Uint64(1<<60))
	w.Set("i64", Int64(-1<<60))
	w.Set("f64", Float64(math.Pi))
	w.Set("strings", Strings([]string{"a", "", "ünï"}))
	w.Set("ints", Int32s([]int32{1, -2, 3}))
	w.Set("nested", Arrays([]Value{Uint32s([]uint32{1, 2}), Uint32s(nil), Arrays([]Value{Strings([]string{"deep"})})}))
	w.Set("general.alignment", Uint32(64))
	must(t, w.AddF32("f32t", TypeF32, []uint64{3}, []float32{1, -2, 0.25}))
	must(t, w.AddF32("f16t", TypeF16, []uint64{2, 2}, []float32{1, -2, 0.5, 65504}))
	must(t, w.AddF32("bf16t", TypeBF16, []uint64{2}, []float32{1, 3.140625}))
	q := make([]float32, 32)
	for i := range q {
		q[i] = float32(i - 16)
	}
	must(t, w.AddF32("q8t", TypeQ8_0, []uint64{32}, q))
	must(t, w.AddTensor("iq2", TypeIQ2_XXS, []uint64{256}, make([]byte, 66)))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTripMetadata(t *testing.T) {
	f, err := Parse(sampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.Alignment != 64 || f.DataOffset%64 != 0 {
		t.Fatalf("version %d alignment %d data offset %d", f.Version, f.Alignment, f.DataOffset)
	}
	want := map[string]any{
		"u8": uint8(200), "i8": int8(-100), "u16": uint16(60000), "i16": int16(-30000),
		"u32": uint32(4000000000), "i32": int32(-2000000000), "f32": float32(1.5), "bool": true,
		"u64": uint64(1 << 60), "i64": int64(-1 << 60), "f64": math.Pi, "general.architecture": "llama",
		"strings": []string{"a", "", "ünï"}, "ints": []int32{1, -2, 3},
	}
	for k, v := range want {
		got, ok := f.Get(k)
		if !ok || !reflect.DeepEqual(got.V, v) {
			t.Errorf("%s = %#v, want %#v", k, got.V, v)
		}
	}
	nested, _ := f.Get("nested")
	inner := nested.V.([]Value)
	if len(inner) != 3 || !reflect.DeepEqual(inner[0].V, []uint32{1, 2}) || inner[1].Len() != 0 {
		t.Fatalf("nested = %#v", nested)
	}
	deep := inner[2].V.([]Value)[0]
	if s, _ := deep.Strings(); len(s) != 1 || s[0] != "deep" {
		t.Fatalf("deep nested = %#v", deep)
	}
	if keys := len(f.KVs); keys != 16 || f.KVs[0].Key != "general.architecture" {
		t.Fatalf("kv order/count wrong: %d first %q", keys, f.KVs[0].Key)
	}
}

func TestDequantizeKnownValues(t *testing.T) {
	// Hand-encoded bytes and the values they must decode to.
	cases := []struct {
		name string
		typ  GGMLType
		dims []uint64
		data []byte
		want []float32
	}{
		{"f32", TypeF32, []uint64{2}, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}, []float32{1, -2}},
		// F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), 0.333251953125.
		{"f16", TypeF16, []uint64{5}, []byte{0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x55, 0x35},
			[]float32{1, -2, 65504, 1.0 / (1 << 24), 0.333251953125}},
		// BF16: 1.0, 3.140625, -0.5.
		{"bf16", TypeBF16, []uint64{3}, []byte{0x80, 0x3f, 0x49, 0x40, 0x00, 0xbf}, []float32{1, 3.140625, -0.5}},
	}
	// Q8_0: d = fp16 0x3800 = 0.5, quants 0, 1, -2, ..., so x = 0.5*q.
	q8 := []byte{0x00, 0x38}
	q8want := make([]float32, 32)
	for j := range 32 {
		q := int8(j - 16)
		q8 = append(q8, byte(q))
		q8want[j] = 0.5 * float32(q)
	}
	q8[2+31] = 0x81 // -127
	q8want[31] = -63.5
	cases = append(cases, struct {
		name string
		typ  GGMLType
		dims []uint64
		data []byte
		want []float32
	}{"q8_0", TypeQ8_0, []uint64{32}, q8, q8want})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Dequantize(TensorInfo{Name: c.name, Dims: c.dims, Type: c.typ}, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestF16RoundTripAndRounding(t *testing.T) {
	for h := range 1 << 16 {
		f := F16ToF32(uint16(h))
		if f != f { // nan payloads are not preserved bit-exactly
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("f16 %#04x -> %v -> %#04x", h, f, back)
		}
	}
	// 1 + 2^-11 is exactly halfway between 1 and 1+2^-10: ties to even (1.0).
	if got := F32ToF16(1 + 1.0/2048); got != 0x3c00 {
		t.Fatalf("tie rounding: %#04x", got)
	}
	if got := F32ToF16(1e6); got != 0x7c00 {
		t.Fatalf("overflow should be inf, got %#04x", got)
	}
	if got := F32ToBF16(1 + 1.0/256); got != 0x3f80 { // tie, even
		t.Fatalf("bf16 tie: %#04x", got)
	}
}

func TestQuantizeQ8_0MatchesReference(t *testing.T) {
	v := make([]float32, 32)
	for i := range v {
		v[i] = float32(i) - 10
	}
	data, err := Quantize(TypeQ8_0, v)
	if err != nil {
		t.Fatal(err)
	}
	// max |x| = 21, d = 21/127; q = round(x*127/21).
	d := F16ToF32(binary.LittleEndian.Uint16(data))
	if want := F16ToF32(F32ToF16(21.0 / 127)); d != want {
		t.Fatalf("d = %v, want %v", d, want)
	}
	if q := int8(data[2+31]); q != 127 {
		t.Fatalf("q[31] = %d, want 127", q)
	}
	if q := int8(data[2]); q != int8(math.Round(-10*127.0/21)) {
		t.Fatalf("q[0] = %d", q)
	}
}

func TestTensorsAndUnsupportedType(t *testing.T) {
	f, err := Parse(sampleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Float32("f16t")
	if err != nil || !reflect.DeepEqual(got, []float32{1, -2, 0.5, 65504}) {
		t.Fatalf("f16t = %v, %v", got, err)
	}
	q, err := f.Float32("q8t")
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range q {
		if math.Abs(float64(x)-float64(i-16)) > 0.07 {
			t.Fatalf("q8t[%d] = %v", i, x)
		}
	}
	for _, ti := range f.Tensors {
		if ti.Offset%f.Alignment != 0 {
			t.Errorf("tensor %s offset %d unaligned", ti.Name, ti.Offset)
		}
	}
	_, err = f.Float32("iq2")
	var unsupported *UnsupportedTypeError
	if !errors.As(err, &unsupported) || unsupported.Tensor != "iq2" || unsupported.Type != TypeIQ2_XXS ||
		!strings.Contains(err.Error(), "IQ2_XXS") || !strings.Contains(err.Error(), "supported: F32, F16, Q4_0") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenMapsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, sampleFile(t), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, err := f.Float32("bf16t"); err != nil || v[1] != 3.140625 {
		t.Fatalf("bf16t = %v, %v", v, err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "missing.gguf"))
	if err == nil || !strings.HasPrefix(err.Error(), "load ") {
		t.Fatalf("missing file error = %v", err)
	}
}

func header(tensors, kvs uint64) []byte {
	b := []byte("GGUF")
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, tensors)
	return binary.LittleEndian.AppendUint64(b, kvs)
}

func TestHostileFiles(t *testing.T) {
	valid := sampleFile(t)
	bigString := append(header(0, 1), binary.LittleEndian.AppendUint64(nil, 1<<62)...)
	bigString = append(bigString, "xxxxx"...)
	hugeArray := header(0, 1)
	hugeArray = binary.LittleEndian.AppendUint64(hugeArray, 1)
	hugeArray = append(hugeArray, 'k')
	hugeArray = binary.LittleEndian.AppendUint32(hugeArray, uint32(ValueArray))
	hugeArray = binary.LittleEndian.AppendUint32(hugeArray, uint32(ValueUint64))
	hugeArray = binary.LittleEndian.AppendUint64(hugeArray, 1<<40)
	tensorPastEnd := func() []byte {
		w := NewWriter()
		must(t, w.AddF32("x", TypeF32, []uint64{4}, []float32{1, 2, 3, 4}))
		var buf bytes.Buffer
		w.WriteTo(&buf)
		return buf.Bytes()[:buf.Len()-20]
	}()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "gguf: offset 0: magic: need 4 bytes, 0 left"},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), `gguf: offset 0: magic "GGML" is not "GGUF"`},
		{"version 1", []byte("GGUF\x01\x00\x00\x00"), "gguf: offset 4: unsupported version 1"},
		{"kv count", header(0, math.MaxInt64), "gguf: offset 16: metadata kv count 9223372036854775807 exceeds file size"},
		{"tensor count", header(1<<40, 0), "gguf: offset 8: tensor count 1099511627776 exceeds file size"},
		{"key length", bigString, "gguf: offset 24: metadata key length 4611686018427387904 exceeds file size"},
		{"array length", hugeArray, "gguf: offset 41: array length 1099511627776 of k exceeds file size"},
		{"tensor past end", tensorPastEnd, "gguf: tensor x: data [0, +16) at file offset"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err = %v, want prefix %q", err, c.want)
			}
		})
	}
	// Every truncation of a valid file before its last tensor's end fails
	// cleanly (the trailing padding is optional).
	gf, err := Parse(valid)
	if err != nil {
		t.Fatal(err)
	}
	last := gf.Tensors[len(gf.Tensors)-1]
	for n := range int(gf.DataOffset + last.Offset + last.Size) {
		if _, err := Parse(valid[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sampleFile(f))
	f.Add(header(0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		gf, err := Parse(data)
		if err != nil {
			return
		}
		for _, ti := range gf.Tensors {
			// Data views must lie inside the file; dequantizing must not panic.
			if b := gf.TensorData(ti); uint64(len(b)) != ti.Size {
				t.Fatalf("tensor %s: %d bytes, want %d", ti.Name, len(b), ti.Size)
			}
			if ti.Elements() <= 1<<20 {
				_, _ = Dequantize(ti, gf.TensorData(ti))
			}
		}
	})
}
