package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pre-tokenizers below are hand-written scanners for the regexes the
// models were trained with; Go's regexp has no lookahead for \s+(?!\S).
// Each one tries the regex alternatives in order at the current position and
// takes the first that matches, as a backtracking regex engine would.
//
// \s is Unicode White_Space (unicode.IsSpace), as in tiktoken, HF tokenizers
// and llama.cpp. JavaScript's \s differs on two code points: it includes
// U+FEFF and excludes U+0085.
var preTokenizers = map[string]func(string) []string{
	"gpt2":  splitGPT2,
	"gpt-2": splitGPT2, // what llama.cpp's converter writes for GPT-2
	// GPT-2's regex under the names llama.cpp's converter gives other vocabularies
	// (llama-vocab.cpp maps them to LLAMA_VOCAB_PRE_TYPE_GPT2/MPT/OLMO, one regex):
	// GPT-NeoX-20B's (Pythia, OLMo) is "olmo", Phi-2's "phi-2".
	"olmo":      splitGPT2,
	"mpt":       splitGPT2,
	"phi-2":     splitGPT2,
	"starcoder": splitStarCoder,
	"default":   splitGPT2,
	"llama-bpe": func(s string) []string { return splitLlama3(s, 3) },
	"llama3":    func(s string) []string { return splitLlama3(s, 3) },
	"qwen2":     func(s string) []string { return splitLlama3(s, 1) },
}

func supportedPreTokenizers() string {
	names := make([]string, 0, len(preTokenizers))
	for name := range preTokenizers {
		names = append(names, `"`+name+`"`)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// runeScanner holds the decoded text; invalid UTF-8 decodes to U+FFFD but the
// pieces are cut from the original bytes, so nothing is lost.
type runeScanner struct {
	text  string
	runes []rune
	offs  []int // byte offset of each rune, plus len(text) at the end
}

func newRuneScanner(text string) *runeScanner {
	n := utf8.RuneCountInString(text) // sized at once: appending would hold up to twice as much
	s := &runeScanner{text: text, runes: make([]rune, 0, n), offs: make([]int, 0, n+1)}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		s.runes = append(s.runes, r)
		s.offs = append(s.offs, i)
		i += size
	}
	s.offs = append(s.offs, len(text))
	return s
}

func (s *runeScanner) at(i int) rune {
	if i < len(s.runes) {
		return s.runes[i]
	}
	return -1
}

func (s *runeScanner) piece(from, to int) string { return s.text[s.offs[from]:s.offs[to]] }

func isLetter(r rune) bool { return r >= 0 && unicode.IsLetter(r) }
func isNumber(r rune) bool { return r >= 0 && unicode.IsNumber(r) }
func isSpace(r rune) bool  { return r >= 0 && unicode.IsSpace(r) }

// isOther is [^\s\p{L}\p{N}].
func isOther(r rune) bool { return r >= 0 && !isSpace(r) && !isLetter(r) && !isNumber(r) }

func (s *runeScanner) skip(i int, class func(rune) bool) int {
	for class(s.at(i)) {
		i++
	}
	return i
}

// contraction matches 's|'t|'re|'ve|'m|'ll|'d at i, ASCII case-insensitively
// when foldCase is set, and returns its end.
func (s *runeScanner) contraction(i int, foldCase bool) (int, bool) {
	if s.at(i) != '\'' {
		return 0, false
	}
	lower := func(r rune) rune {
		if foldCase && 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	switch a := lower(s.at(i + 1)); a {
	case 's', 't', 'm', 'd':
		return i + 2, true
	case 'r', 'v':
		if lower(s.at(i+2)) == 'e' {
			return i + 3, true
		}
	case 'l':
		if lower(s.at(i+2)) == 'l' {
			return i + 3, true
		}
	}
	return 0, false
}

// trailingSpaces matches \s+(?!\S) then \s+ at a whitespace rune i: a run
// of whitespace gives its last character to the word that follows, unless the
// run ends the text or is one character long.
func (s *runeScanner) trailingSpaces(i int) int {
	end := s.skip(i, isSpace)
	if end < len(s.runes) && end-i > 1 {
		return end - 1
	}
	return end
}

// splitGPT2 implements
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(text string) []string {
	s := newRuneScanner(text)
	var out []string
	for i := 0; i < len(s.runes); {
		end := s.nextGPT2(i)
		out = append(out, s.piece(i, end))
		i = end
	}
	return out
}

// splitStarCoder is llama.cpp's LLAMA_VOCAB_PRE_TYPE_STARCODER: \p{N} first
// (every digit a piece of its own), then GPT-2's regex on the text between.
func splitStarCoder(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if isNumber(r) {
			if start < i {
				out = append(out, splitGPT2(text[start:i])...)
			}
			size := utf8.RuneLen(r) // a valid rune: U+FFFD is not a number
			out = append(out, text[i:i+size])
			start = i + size
		}
	}
	if start < len(text) {
		out = append(out, splitGPT2(text[start:])...)
	}
	return out
}

func (s *runeScanner) nextGPT2(i int) int {
	if end, ok := s.contraction(i, false); ok {
		return end
	}
	j := i
	if s.at(j) == ' ' {
		j++ // the optional leading space of the next three alternatives
	}
	for _, class := range []func(rune) bool{isLetter, isNumber, isOther} {
		if class(s.at(j)) {
			return s.skip(j, class)
		}
	}
	return s.trailingSpaces(i)
}

// splitLlama3 implements Llama-3's regex (maxDigits 3) and Qwen2's (maxDigits 1):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitLlama3(text string, maxDigits int) []string {
	s := newRuneScanner(text)
	var out []string
	for i := 0; i < len(s.runes); {
		end := s.nextLlama3(i, maxDigits)
		out = append(out, s.piece(i, end))
		i = end
	}
	return out
}

func isNewline(r rune) bool { return r == '\r' || r == '\n' }

func (s *runeScanner) nextLlama3(i, maxDigits int) int {
	if end, ok := s.contraction(i, true); ok {
		return end
	}
	r := s.at(i)

	// [^\r\n\p{L}\p{N}]?\p{L}+
	if isLetter(r) {
		return s.skip(i, isLetter)
	}
	if !isNewline(r) && !isNumber(r) && isLetter(s.at(i+1)) {
		return s.skip(i+1, isLetter)
	}

	// \p{N}{1,maxDigits}
	if isNumber(r) {
		end := i
		for end-i < maxDigits && isNumber(s.at(end)) {
			end++
		}
		return end
	}

	// ?[^\s\p{L}\p{N}]+[\r\n]*
	j := i
	if r == ' ' {
		j++
	}
	if isOther(s.at(j)) {
		return s.skip(s.skip(j, isOther), isNewline)
	}

	// \s*[\r\n]+ ends after the last newline of the whitespace run.
	end := s.skip(i, isSpace)
	for k := end - 1; k >= i; k-- {
		if isNewline(s.at(k)) {
			return k + 1
		}
	}
	return s.trailingSpaces(i)
}
