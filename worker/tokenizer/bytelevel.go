package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// gpt2ByteToRune is GPT-2's bytes_to_unicode: printable bytes map to
// themselves, the others to U+0100 onwards, so every byte sequence becomes a
// string of visible characters that BPE vocabularies can store.
func gpt2ByteToRune() [256]rune {
	var m [256]rune
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		if printable {
			m[b] = rune(b)
		} else {
			m[b] = next
			next++
		}
	}
	return m
}

func (t *Tokenizer) initByteLevel() error {
	v := &t.vocab
	t.preTokenize = preTokenizers[v.Pre]
	t.ignoreMerges = v.Pre == "llama-bpe" // as llama.cpp sets for Llama-3

	byteToRune := gpt2ByteToRune()
	runeToByte := make(map[rune]byte, 256)
	for b, r := range byteToRune {
		t.byteToSymbol[b] = string(r)
		runeToByte[r] = byte(b)
	}

	t.merges = make(map[uint64]merge, len(v.Merges))
	for rank, m := range v.Merges {
		left, right, ok := strings.Cut(m, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return fmt.Errorf("tokenizer: merge %d %q is not two tokens separated by one space", rank, m)
		}
		lid, lok := t.tokenToID[left]
		rid, rok := t.tokenToID[right]
		result, resok := t.tokenToID[left+right]
		if !lok || !rok || !resok {
			return fmt.Errorf("tokenizer: merge %d %q uses or makes a token missing from the vocabulary", rank, m)
		}
		key := uint64(lid)<<32 | uint64(rid)
		if _, dup := t.merges[key]; !dup {
			t.merges[key] = merge{rank: int32(rank), result: int32(result)}
		}
	}

	t.pieces = make([][]byte, len(v.Tokens))
	for id, text := range v.Tokens {
		switch t.tokenType(id) {
		case typeUnused:
		case typeControl, typeUserDefined, typeUnknown:
			t.pieces[id] = []byte(text)
		default:
			var p []byte
			for _, r := range text {
				if b, ok := runeToByte[r]; ok {
					p = append(p, b)
				} else {
					p = utf8.AppendRune(p, r) // not byte-level text; keep it readable
				}
			}
			t.pieces[id] = p
		}
	}
	return nil
}

func (t *Tokenizer) encodeByteLevel(ids []int, text string) []int {
	var word strings.Builder
	for _, pre := range t.preTokenize(text) {
		word.Reset()
		for i := 0; i < len(pre); i++ {
			word.WriteString(t.byteToSymbol[pre[i]])
		}
		w := word.String()
		if t.ignoreMerges {
			if id, ok := t.tokenToID[w]; ok {
				ids = append(ids, id)
				continue
			}
		}
		syms := make([]symbol, 0, len(pre))
		for i, r := range w {
			id, ok := t.tokenToID[w[i:i+utf8.RuneLen(r)]]
			if !ok {
				id = -1
			}
			n := int32(len(syms))
			syms = append(syms, symbol{start: int32(i), end: int32(i + utf8.RuneLen(r)), id: int32(id), prev: n - 1, next: n + 1})
		}
		if len(syms) == 0 {
			continue
		}
		syms[len(syms)-1].next = -1
		mergeSymbols(syms, t.byteLevelPair, func(s symbol) {
			switch {
			case s.id >= 0:
				ids = append(ids, int(s.id))
			case t.vocab.UNK >= 0:
				// Only vocabularies without all 256 byte symbols get here.
				ids = append(ids, t.vocab.UNK)
			}
		})
	}
	return ids
}

func (t *Tokenizer) byteLevelPair(l, r *symbol) (float64, int, bool) {
	if l.id < 0 || r.id < 0 {
		return 0, 0, false
	}
	m, ok := t.merges[uint64(l.id)<<32|uint64(r.id)]
	return float64(m.rank), int(m.result), ok
}
