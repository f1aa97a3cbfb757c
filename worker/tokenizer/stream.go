package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// StreamDecoder turns generated tokens into text as they arrive. A character
// can be split over several tokens (byte-fallback <0xNN> tokens, byte-level
// BPE fragments of multi-byte characters), so bytes are held back until they
// complete a character. Unlike Decode it never strips the SentencePiece
// prefix space: streamed tokens continue a prompt, where that space belongs.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
}

// NewStreamDecoder returns a decoder with nothing pending.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Next adds the token id and returns the text it completes, which is always
// valid UTF-8; bytes that can never form a character come out as U+FFFD.
func (d *StreamDecoder) Next(id int) string {
	d.pending = append(d.pending, d.t.piece(id)...)
	return d.take(false)
}

// Flush returns whatever is still pending, with an incomplete character
// replaced by U+FFFD, and resets the decoder.
func (d *StreamDecoder) Flush() string {
	return d.take(true)
}

func (d *StreamDecoder) take(all bool) string {
	var b strings.Builder
	i := 0
	for i < len(d.pending) {
		rest := d.pending[i:]
		if !all && !utf8.FullRune(rest) {
			break // the start of a character whose remaining bytes are still to come
		}
		r, size := utf8.DecodeRune(rest)
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.Write(rest[:size])
		}
		i += size
	}
	d.pending = append(d.pending[:0], d.pending[i:]...)
	return b.String()
}
