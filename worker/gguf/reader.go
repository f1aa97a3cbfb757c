package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment when general.alignment is absent.
const DefaultAlignment = 32

const (
	maxDims        = 4  // GGML_MAX_DIMS
	maxArrayDepth  = 16 // nested arrays deeper than this are rejected, bounding recursion
	maxAlignment   = 1 << 20
	minKVBytes     = 8 + 4 + 1     // key length, value type, smallest value
	minTensorBytes = 8 + 4 + 4 + 8 // name length, n_dims, type, offset
)

// KV is one metadata key/value pair, in file order.
type KV struct {
	Key   string
	Value Value
}

// TensorInfo describes one tensor. Dims are in GGUF order, fastest-varying
// first: a matrix of R rows and C columns has Dims {C, R}.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   GGMLType
	Offset uint64 // relative to the start of the data section
	Size   uint64 // encoded bytes
}

// Elements is the product of the dimensions.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// File is a parsed GGUF file. Tensor data slices point into the file mapping
// and stay valid until Close.
type File struct {
	Version    uint32
	KVs        []KV
	Tensors    []TensorInfo
	Alignment  uint64
	DataOffset uint64 // absolute offset of the data section
	// HeaderSize is where the last tensor info ends: the bytes a header-only
	// read needs (the data section starts at the next alignment boundary).
	HeaderSize uint64
	// Size is the file size the header was checked against.
	Size uint64

	kv      map[string]int
	tensor  map[string]int
	data    []byte // the whole file
	release func() error
}

// Open memory-maps path read-only and parses it.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	data, release, err := mapFile(f)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	gf, err := Parse(data)
	if err != nil {
		_ = release()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	gf.release = release
	return gf, nil
}

// Close unmaps the file; tensor data returned earlier must not be used after.
func (f *File) Close() error {
	if f.release == nil {
		return nil
	}
	err := f.release()
	f.release = nil
	f.data = nil
	return err
}

// Parse reads a GGUF file held in memory. The File keeps references to data.
func Parse(data []byte) (*File, error) {
	p := &parser{buf: data, size: uint64(len(data))}
	f, err := p.file()
	if err != nil {
		return nil, err
	}
	f.data = data
	return f, nil
}

// MaxHeaderBytes bounds what ParseHeader reads: real headers are a few MiB
// (a 150k-token vocabulary and its merges), so more is a hostile file.
const MaxHeaderBytes = 64 << 20

// ParseHeader reads only the header of a GGUF file of size bytes from r: the
// metadata and tensor infos, never the tensor data. It reads in growing
// prefixes, and each read ends at a lower bound of the header's end that the
// parser knows from the counts and lengths it has read (every remaining key,
// tensor info and array element takes at least a few bytes), so it never
// asks for a byte past the header, and reads at most MaxHeaderBytes. Counts
// and lengths are checked against size, with the same bounds as Parse. The
// File has no tensor data: TensorData returns nil and HasData is false.
func ParseHeader(r io.ReaderAt, size int64) (*File, error) {
	return ParseHeaderLimit(r, size, MaxHeaderBytes)
}

// ParseHeaderLimit is ParseHeader reading at most limit bytes.
func ParseHeaderLimit(r io.ReaderAt, size int64, limit uint64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("gguf: negative file size %d", size)
	}
	p := &parser{size: uint64(size)}
	p.grow = func(need, floor uint64) error {
		if need > limit {
			return fmt.Errorf("gguf: header is larger than the %d MiB read limit (needs byte %d)", limit>>20, need)
		}
		target := min(max(need, floor), limit, p.size)
		have := uint64(len(p.buf))
		buf := make([]byte, target)
		copy(buf, p.buf)
		n, err := r.ReadAt(buf[have:], int64(have))
		if uint64(n) < target-have {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("gguf: read header bytes [%d, %d): %w", have, target, err)
		}
		p.buf = buf
		return nil
	}
	return p.file()
}

// HasData says whether tensor data can be read (false after ParseHeader).
func (f *File) HasData() bool { return f.data != nil }

// file parses the header and checks the tensors against the file size.
func (p *parser) file() (*File, error) {
	f := &File{kv: map[string]int{}, tensor: map[string]int{}, Alignment: DefaultAlignment, Size: p.size}

	magicAt := p.off
	magic, err := p.bytes(4, "magic")
	if err != nil {
		return nil, err
	}
	if string(magic) != Magic {
		return nil, p.errorf(magicAt, "magic %q is not %q", magic, Magic)
	}
	versionAt := p.off
	if f.Version, err = p.u32("version"); err != nil {
		return nil, err
	}
	// v1 used 32-bit counts and is long gone; v2 and v3 share a layout
	// (v3 only added big-endian files, which announce themselves by a
	// byte-swapped version and are rejected here).
	if f.Version != 2 && f.Version != 3 {
		return nil, p.errorf(versionAt, "unsupported version %d", f.Version)
	}
	// Read both counts at once: they are 16 bytes of any valid header.
	if p.size-p.off >= 16 {
		if _, err := p.peek(16); err != nil {
			return nil, err
		}
	}
	tensorCountAt := p.off
	tensorCount, err := p.u64("tensor count")
	if err != nil {
		return nil, err
	}
	kvCountAt := p.off
	kvCount, err := p.u64("metadata kv count")
	if err != nil {
		return nil, err
	}
	if kvCount > p.remaining()/minKVBytes {
		return nil, p.errorf(kvCountAt, "metadata kv count %d exceeds file size", kvCount)
	}
	if tensorCount > p.remaining()/minTensorBytes {
		return nil, p.errorf(tensorCountAt, "tensor count %d exceeds file size", tensorCount)
	}
	// Both products are at most the file size, checked just above.
	p.pending = kvCount*minKVBytes + tensorCount*minTensorBytes

	f.KVs = make([]KV, 0, kvCount)
	for i := uint64(0); i < kvCount; i++ {
		p.pending -= minKVBytes
		keyAt := p.off
		key, err := p.str("metadata key")
		if err != nil {
			return nil, err
		}
		if _, dup := f.kv[key]; dup {
			return nil, p.errorf(keyAt, "duplicate metadata key %q", key)
		}
		typeAt := p.off
		vt, err := p.u32("metadata value type of " + key)
		if err != nil {
			return nil, err
		}
		v, err := p.value(ValueType(vt), typeAt, key, 0)
		if err != nil {
			return nil, err
		}
		f.kv[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: v})
	}

	if v, ok := f.Get("general.alignment"); ok {
		a, isU32 := v.V.(uint32)
		if !isU32 || a == 0 || a > maxAlignment || bits.OnesCount32(a) != 1 {
			return nil, fmt.Errorf("gguf: general.alignment %s is not a power of two up to %d stored as uint32", v.Format(), maxAlignment)
		}
		f.Alignment = uint64(a)
	}

	f.Tensors = make([]TensorInfo, 0, tensorCount)
	for i := uint64(0); i < tensorCount; i++ {
		p.pending -= minTensorBytes
		t, err := p.tensorInfo()
		if err != nil {
			return nil, err
		}
		if _, dup := f.tensor[t.Name]; dup {
			return nil, fmt.Errorf("gguf: duplicate tensor %q", t.Name)
		}
		f.tensor[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.HeaderSize = p.off

	// The data section starts at the next multiple of the alignment. A file
	// without tensors may end before the padding.
	pad := (f.Alignment - p.off%f.Alignment) % f.Alignment
	f.DataOffset = p.off + pad
	if len(f.Tensors) == 0 {
		return f, nil
	}
	if f.DataOffset > p.size {
		return nil, p.errorf(p.off, "data section padding exceeds file size")
	}
	dataLen := p.size - f.DataOffset
	for _, t := range f.Tensors {
		if t.Offset%f.Alignment != 0 {
			return nil, fmt.Errorf("gguf: tensor %s: data offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
		if t.Offset > dataLen || t.Size > dataLen-t.Offset {
			return nil, fmt.Errorf("gguf: tensor %s: data [%d, +%d) at file offset %d exceeds the %d-byte data section",
				t.Name, t.Offset, t.Size, f.DataOffset+t.Offset, dataLen)
		}
	}
	return f, nil
}

// Get returns the metadata value for key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kv[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tensor[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorData returns the encoded bytes of a tensor, a view into the mapping;
// nil for a header-only File.
func (f *File) TensorData(t TensorInfo) []byte {
	if f.data == nil {
		return nil
	}
	start := f.DataOffset + t.Offset
	return f.data[start : start+t.Size : start+t.Size]
}

// Float32 dequantizes the named tensor into a new slice.
func (f *File) Float32(name string) ([]float32, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("tensor %s not found", name)
	}
	return Dequantize(t, f.TensorData(t))
}

// parser walks the buffer; every read checks the bytes remaining in the file
// first. buf may hold only a prefix of the file: grow extends it.
type parser struct {
	buf  []byte
	size uint64 // the file size: every count and length is checked against it
	off  uint64
	// pending is a lower bound of the header bytes still to come after the
	// item being read: the least encoding of each key, tensor info and array
	// element not started yet. off + pending never passes the header's end.
	pending uint64
	// grow makes buf hold at least need bytes, and may read up to floor, a
	// lower bound of the header's end; nil when buf is the whole file.
	grow func(need, floor uint64) error
}

func (p *parser) remaining() uint64 { return p.size - p.off }

// peek makes the next n bytes (n <= remaining) available without consuming them.
func (p *parser) peek(n uint64) ([]byte, error) {
	end := p.off + n
	if end > uint64(len(p.buf)) {
		if p.grow == nil {
			return nil, p.errorf(p.off, "need %d bytes, %d buffered", n, uint64(len(p.buf))-p.off)
		}
		if err := p.grow(end, end+p.pending); err != nil {
			return nil, err
		}
	}
	return p.buf[p.off:end], nil
}

func (p *parser) errorf(at uint64, format string, args ...any) error {
	return fmt.Errorf("gguf: offset %d: %s", at, fmt.Sprintf(format, args...))
}

func (p *parser) bytes(n uint64, field string) ([]byte, error) {
	if n > p.remaining() {
		return nil, p.errorf(p.off, "%s: need %d bytes, %d left", field, n, p.remaining())
	}
	b, err := p.peek(n)
	if err != nil {
		return nil, err
	}
	p.off += n
	return b, nil
}

func (p *parser) u32(field string) (uint32, error) {
	b, err := p.bytes(4, field)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (p *parser) u64(field string) (uint64, error) {
	b, err := p.bytes(8, field)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (p *parser) str(field string) (string, error) {
	at := p.off
	n, err := p.u64(field + " length")
	if err != nil {
		return "", err
	}
	if n > p.remaining() {
		return "", p.errorf(at, "%s length %d exceeds file size", field, n)
	}
	b, err := p.bytes(n, field)
	if err != nil {
		return "", err // a failed read of the header prefix
	}
	return string(b), nil
}

// value reads one value of type vt; typeAt is where its type tag was, for errors.
func (p *parser) value(vt ValueType, typeAt uint64, key string, depth int) (Value, error) {
	switch vt {
	case ValueString:
		s, err := p.str("value of " + key)
		return String(s), err
	case ValueArray:
		return p.array(key, depth)
	}
	size := vt.fixedSize()
	if size == 0 {
		return Value{}, p.errorf(typeAt, "metadata value type %d of %s is invalid", uint32(vt), key)
	}
	b, err := p.bytes(size, "value of "+key)
	if err != nil {
		return Value{}, err
	}
	switch vt {
	case ValueUint8:
		return Uint8(b[0]), nil
	case ValueInt8:
		return Int8(int8(b[0])), nil
	case ValueBool:
		if b[0] > 1 {
			return Value{}, p.errorf(p.off-1, "bool value %d of %s is not 0 or 1", b[0], key)
		}
		return Bool(b[0] == 1), nil
	case ValueUint16:
		return Uint16(binary.LittleEndian.Uint16(b)), nil
	case ValueInt16:
		return Int16(int16(binary.LittleEndian.Uint16(b))), nil
	case ValueUint32:
		return Uint32(binary.LittleEndian.Uint32(b)), nil
	case ValueInt32:
		return Int32(int32(binary.LittleEndian.Uint32(b))), nil
	case ValueFloat32:
		return Float32(math.Float32frombits(binary.LittleEndian.Uint32(b))), nil
	case ValueUint64:
		return Uint64(binary.LittleEndian.Uint64(b)), nil
	case ValueInt64:
		return Int64(int64(binary.LittleEndian.Uint64(b))), nil
	default: // ValueFloat64
		return Float64(math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
	}
}

func (p *parser) array(key string, depth int) (Value, error) {
	at := p.off
	if depth >= maxArrayDepth {
		return Value{}, p.errorf(at, "array of %s nested deeper than %d", key, maxArrayDepth)
	}
	et, err := p.u32("array element type of " + key)
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	minSize := elem.minSize()
	if minSize == 0 {
		return Value{}, p.errorf(at, "array element type %d of %s is invalid", et, key)
	}
	countAt := p.off
	n, err := p.u64("array length of " + key)
	if err != nil {
		return Value{}, err
	}
	if n > p.remaining()/minSize {
		return Value{}, p.errorf(countAt, "array length %d of %s exceeds file size", n, key)
	}
	out := Value{Type: ValueArray, Elem: elem}
	p.pending += n * minSize // at most the bytes remaining, checked above
	if elem == ValueString {
		s := make([]string, n)
		for i := range s {
			p.pending -= minSize
			if s[i], err = p.str("array element of " + key); err != nil {
				return Value{}, err
			}
		}
		out.V = s
		return out, nil
	}
	if elem == ValueArray {
		s := make([]Value, n)
		for i := range s {
			p.pending -= minSize
			if s[i], err = p.array(key, depth+1); err != nil {
				return Value{}, err
			}
		}
		out.V = s
		return out, nil
	}
	p.pending -= n * minSize
	b, err := p.bytes(n*minSize, "array of "+key) // length checked above
	if err != nil {
		return Value{}, err // a failed read of the header prefix
	}
	switch elem {
	case ValueUint8:
		out.V = append([]uint8(nil), b...)
	case ValueInt8:
		s := make([]int8, n)
		for i := range s {
			s[i] = int8(b[i])
		}
		out.V = s
	case ValueBool:
		s := make([]bool, n)
		for i := range s {
			if b[i] > 1 {
				return Value{}, p.errorf(countAt+8+uint64(i), "bool element %d of %s is not 0 or 1", b[i], key)
			}
			s[i] = b[i] == 1
		}
		out.V = s
	case ValueUint16:
		out.V = decodeFixed(b, n, 2, func(b []byte) uint16 { return binary.LittleEndian.Uint16(b) })
	case ValueInt16:
		out.V = decodeFixed(b, n, 2, func(b []byte) int16 { return int16(binary.LittleEndian.Uint16(b)) })
	case ValueUint32:
		out.V = decodeFixed(b, n, 4, binary.LittleEndian.Uint32)
	case ValueInt32:
		out.V = decodeFixed(b, n, 4, func(b []byte) int32 { return int32(binary.LittleEndian.Uint32(b)) })
	case ValueFloat32:
		out.V = decodeFixed(b, n, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
	case ValueUint64:
		out.V = decodeFixed(b, n, 8, binary.LittleEndian.Uint64)
	case ValueInt64:
		out.V = decodeFixed(b, n, 8, func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) })
	case ValueFloat64:
		out.V = decodeFixed(b, n, 8, func(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) })
	}
	return out, nil
}

// decodeFixed decodes n little-endian elements of size bytes each from b, whose length
// the caller has checked.
func decodeFixed[T any](b []byte, n uint64, size int, decode func([]byte) T) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = decode(b[size*i:])
	}
	return s
}

func (p *parser) tensorInfo() (TensorInfo, error) {
	var t TensorInfo
	var err error
	if t.Name, err = p.str("tensor name"); err != nil {
		return t, err
	}
	dimsAt := p.off
	nDims, err := p.u32("dimension count of tensor " + t.Name)
	if err != nil {
		return t, err
	}
	if nDims == 0 || nDims > maxDims {
		return t, p.errorf(dimsAt, "tensor %s has %d dimensions, want 1 to %d", t.Name, nDims, maxDims)
	}
	t.Dims = make([]uint64, nDims)
	elements := uint64(1)
	for i := range t.Dims {
		at := p.off
		if t.Dims[i], err = p.u64("dimension of tensor " + t.Name); err != nil {
			return t, err
		}
		// ggml keeps element counts in int64.
		if mulOverflows(elements, t.Dims[i]) || elements*t.Dims[i] > math.MaxInt64 {
			return t, p.errorf(at, "tensor %s element count overflows", t.Name)
		}
		elements *= t.Dims[i]
	}
	typeAt := p.off
	typ, err := p.u32("type of tensor " + t.Name)
	if err != nil {
		return t, err
	}
	t.Type = GGMLType(typ)
	if !t.Type.Known() {
		return t, p.errorf(typeAt, "unknown tensor type %d in tensor %s", typ, t.Name)
	}
	// Blocks run along the first dimension, so it alone must divide evenly.
	if t.Dims[0]%t.Type.BlockSize() != 0 {
		return t, p.errorf(dimsAt, "tensor %s: first dimension %d is not a multiple of the %s block size %d", t.Name, t.Dims[0], t.Type, t.Type.BlockSize())
	}
	if t.Size, err = tensorBytes(t.Type, elements); err != nil {
		return t, p.errorf(typeAt, "tensor %s: %v", t.Name, err)
	}
	if t.Offset, err = p.u64("data offset of tensor " + t.Name); err != nil {
		return t, err
	}
	return t, nil
}
