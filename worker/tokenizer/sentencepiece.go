package tokenizer

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// spaceSymbol is how SentencePiece writes a space inside tokens.
const spaceSymbol = "▁"

func (t *Tokenizer) initSentencePiece() {
	v := &t.vocab
	for b := range t.byteTokens {
		t.byteTokens[b] = -1
	}
	t.pieces = make([][]byte, len(v.Tokens))
	for id, text := range v.Tokens {
		typ := t.tokenType(id)
		if b, ok := parseByteToken(text); ok && (typ == typeByte || v.TokenTypes == nil) {
			if t.byteTokens[b] < 0 {
				t.byteTokens[b] = id
			}
			t.pieces[id] = []byte{b}
			continue
		}
		switch typ {
		case typeUnused:
		case typeControl, typeUnknown:
			t.pieces[id] = []byte(text)
		default:
			t.pieces[id] = []byte(strings.ReplaceAll(text, spaceSymbol, " "))
		}
	}
}

// parseByteToken reads SentencePiece's byte-fallback tokens "<0xNN>".
func parseByteToken(text string) (byte, bool) {
	if len(text) != 6 || !strings.HasPrefix(text, "<0x") || text[5] != '>' {
		return 0, false
	}
	b, err := strconv.ParseUint(text[3:5], 16, 8)
	return byte(b), err == nil
}

// encodeSentencePiece follows llama.cpp's llm_tokenizer_spm: start from the
// characters, repeatedly merge the neighbours whose concatenation is the
// highest-scoring token, and spell characters missing from the vocabulary
// with byte tokens.
func (t *Tokenizer) encodeSentencePiece(ids []int, text string, prefixSpace bool) []int {
	if prefixSpace {
		text = " " + text
	}
	text = strings.ReplaceAll(text, " ", spaceSymbol)
	syms := make([]symbol, 0, len(text))
	for i := 0; i < len(text); {
		_, size := utf8.DecodeRuneInString(text[i:])
		id, ok := t.tokenToID[text[i:i+size]]
		if !ok {
			id = -1
		}
		n := int32(len(syms))
		syms = append(syms, symbol{start: int32(i), end: int32(i + size), id: int32(id), prev: n - 1, next: n + 1})
		i += size
	}
	if len(syms) == 0 {
		return ids
	}
	syms[len(syms)-1].next = -1
	pair := func(l, r *symbol) (float64, int, bool) {
		id, ok := t.tokenToID[text[l.start:r.end]]
		if !ok {
			return 0, 0, false
		}
		switch t.tokenType(id) {
		case typeNormal, typeUserDefined, typeUndefined:
			return -float64(t.vocab.Scores[id]), id, true
		}
		return 0, 0, false // never merge into control or byte tokens
	}
	mergeSymbols(syms, pair, func(s symbol) {
		if s.id >= 0 {
			ids = append(ids, int(s.id))
			return
		}
		for i := s.start; i < s.end; i++ {
			switch {
			case t.byteTokens[text[i]] >= 0:
				ids = append(ids, t.byteTokens[text[i]])
			case t.vocab.UNK >= 0:
				ids = append(ids, t.vocab.UNK)
			}
		}
	})
	return ids
}
