package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Writer builds a GGUF v3 file in memory order: metadata in insertion order,
// then tensor infos, then aligned tensor data. It is meant for tests and small
// tools, so it holds tensor data in memory until WriteTo.
type Writer struct {
	kvs     []KV
	keys    map[string]int
	tensors []writerTensor
	names   map[string]bool
}

type writerTensor struct {
	info     TensorInfo
	data     []byte
	declared bool // DeclareTensor: no data
}

// NewWriter returns an empty writer.
func NewWriter() *Writer {
	return &Writer{keys: map[string]int{}, names: map[string]bool{}}
}

// Set adds or replaces a metadata value.
func (w *Writer) Set(key string, v Value) {
	if i, ok := w.keys[key]; ok {
		w.kvs[i].Value = v
		return
	}
	w.keys[key] = len(w.kvs)
	w.kvs = append(w.kvs, KV{Key: key, Value: v})
}

// AddTensor appends a tensor; dims are GGUF order (fastest-varying first)
// and data must be the encoded bytes for that type and shape.
func (w *Writer) AddTensor(name string, typ GGMLType, dims []uint64, data []byte) error {
	if w.names[name] {
		return fmt.Errorf("tensor %s added twice", name)
	}
	t := TensorInfo{Name: name, Dims: append([]uint64(nil), dims...), Type: typ}
	if len(dims) == 0 || len(dims) > maxDims || !typ.Known() || dims[0]%typ.BlockSize() != 0 {
		return fmt.Errorf("tensor %s: dims %v do not fit type %s (1-%d dims, first a multiple of the block size)", name, dims, typ, maxDims)
	}
	size, err := tensorBytes(typ, t.Elements())
	if err != nil {
		return fmt.Errorf("tensor %s: %w", name, err)
	}
	if uint64(len(data)) != size {
		return fmt.Errorf("tensor %s: %d bytes of data, want %d", name, len(data), size)
	}
	t.Size = size
	w.names[name] = true
	w.tensors = append(w.tensors, writerTensor{info: t, data: data})
	return nil
}

// DeclareTensor appends a tensor without data, for WriteHeader: a header
// that declares tensors of any size, e.g. to test header-only readers.
func (w *Writer) DeclareTensor(name string, typ GGMLType, dims []uint64) error {
	t := TensorInfo{Name: name, Dims: append([]uint64(nil), dims...), Type: typ}
	if w.names[name] || len(dims) == 0 || len(dims) > maxDims || !typ.Known() || dims[0]%typ.BlockSize() != 0 {
		return fmt.Errorf("tensor %s: added twice, or dims %v do not fit type %s", name, dims, typ)
	}
	size, err := tensorBytes(typ, t.Elements())
	if err != nil {
		return fmt.Errorf("tensor %s: %w", name, err)
	}
	t.Size = size
	w.names[name] = true
	w.tensors = append(w.tensors, writerTensor{info: t, declared: true})
	return nil
}

// AddF32 encodes values as typ (any type with an encoder in the type table)
// and adds the tensor.
func (w *Writer) AddF32(name string, typ GGMLType, dims []uint64, values []float32) error {
	data, err := Quantize(typ, values)
	if err != nil {
		return fmt.Errorf("tensor %s: %w", name, err)
	}
	return w.AddTensor(name, typ, dims, data)
}

func (w *Writer) alignment() uint64 {
	if i, ok := w.keys["general.alignment"]; ok {
		if a, ok := w.kvs[i].Value.V.(uint32); ok && a > 0 {
			return uint64(a)
		}
	}
	return DefaultAlignment
}

// WriteTo writes the file; it refuses tensors added with DeclareTensor.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	return w.WriteStream(out, func(t TensorInfo) ([]byte, error) {
		return nil, fmt.Errorf("tensor %s has no data: use WriteHeader or WriteStream", t.Name)
	})
}

// WriteStream writes the file, asking data for each declared tensor's bytes
// when its turn comes, in order, so a tool can write a model larger than
// memory one tensor at a time.
func (w *Writer) WriteStream(out io.Writer, data func(TensorInfo) ([]byte, error)) (int64, error) {
	cw := &countingWriter{w: bufio.NewWriter(out)}
	align := w.alignment()
	w.header(cw)
	for _, t := range w.tensors {
		b := t.data
		if t.declared && cw.err == nil {
			var err error
			if b, err = data(t.info); err != nil {
				return cw.n, err
			}
			if uint64(len(b)) != t.info.Size {
				return cw.n, fmt.Errorf("tensor %s: %d bytes of data, want %d", t.info.Name, len(b), t.info.Size)
			}
		}
		cw.bytes(b)
		cw.pad(align)
	}
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return cw.n, cw.err
}

// WriteHeader writes only the header and its padding, and returns the size
// the whole file would have with every tensor's data.
func (w *Writer) WriteHeader(out io.Writer) (fileSize uint64, err error) {
	cw := &countingWriter{w: bufio.NewWriter(out)}
	end := w.header(cw)
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return uint64(cw.n) + end, cw.err
}

// header writes everything before the tensor data and returns the data
// section's size.
func (w *Writer) header(cw *countingWriter) uint64 {
	align := w.alignment()
	cw.bytes([]byte(Magic))
	cw.u32(3)
	cw.u64(uint64(len(w.tensors)))
	cw.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		cw.str(kv.Key)
		cw.u32(uint32(kv.Value.Type))
		if err := cw.value(kv.Value); err != nil && cw.err == nil {
			cw.err = fmt.Errorf("metadata %s: %w", kv.Key, err)
		}
	}
	var offset uint64
	for _, t := range w.tensors {
		cw.str(t.info.Name)
		cw.u32(uint32(len(t.info.Dims)))
		for _, d := range t.info.Dims {
			cw.u64(d)
		}
		cw.u32(uint32(t.info.Type))
		cw.u64(offset)
		offset += (t.info.Size + align - 1) / align * align
	}
	cw.pad(align)
	return offset
}

type countingWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countingWriter) bytes(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countingWriter) pad(align uint64) {
	if r := uint64(c.n) % align; r != 0 {
		c.bytes(make([]byte, align-r))
	}
}

func (c *countingWriter) u8(v uint8) { c.bytes([]byte{v}) }

func (c *countingWriter) u16(v uint16) { c.bytes(binary.LittleEndian.AppendUint16(nil, v)) }

func (c *countingWriter) u32(v uint32) { c.bytes(binary.LittleEndian.AppendUint32(nil, v)) }

func (c *countingWriter) u64(v uint64) { c.bytes(binary.LittleEndian.AppendUint64(nil, v)) }

func (c *countingWriter) str(s string) {
	c.u64(uint64(len(s)))
	c.bytes([]byte(s))
}

func (c *countingWriter) value(v Value) error {
	switch x := v.V.(type) {
	case uint8:
		c.u8(x)
	case int8:
		c.u8(uint8(x))
	case bool:
		if x {
			c.u8(1)
		} else {
			c.u8(0)
		}
	case uint16:
		c.u16(x)
	case int16:
		c.u16(uint16(x))
	case uint32:
		c.u32(x)
	case int32:
		c.u32(uint32(x))
	case float32:
		c.u32(math.Float32bits(x))
	case uint64:
		c.u64(x)
	case int64:
		c.u64(uint64(x))
	case float64:
		c.u64(math.Float64bits(x))
	case string:
		c.str(x)
	default:
		if v.Type != ValueArray {
			return fmt.Errorf("value %T does not match type %s", v.V, v.Type)
		}
		c.u32(uint32(v.Elem))
		c.u64(uint64(v.Len()))
		if nested, ok := v.V.([]Value); ok {
			for _, e := range nested {
				if e.Type != v.Elem {
					return fmt.Errorf("array element of type %s in array of %s", e.Type, v.Elem)
				}
				if err := c.value(e); err != nil {
					return err
				}
			}
			return nil
		}
		for i := range v.Len() {
			e := v.index(i)
			if e.Type != v.Elem {
				return fmt.Errorf("array element of type %s in array of %s", e.Type, v.Elem)
			}
			if err := c.value(e); err != nil {
				return err
			}
		}
	}
	return nil
}
