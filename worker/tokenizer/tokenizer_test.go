package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// tinyByteLevel is a byte-level vocabulary whose ids 0-255 are the bytes'
// GPT-2 symbols, so ids can be checked by hand.
func tinyByteLevel() Vocab {
	v := Vocab{Model: "gpt2", Pre: "gpt2", BOS: -1, UNK: -1, PAD: -1}
	m := gpt2ByteToRune()
	for b := range 256 {
		v.Tokens = append(v.Tokens, string(m[b]))
		v.TokenTypes = append(v.TokenTypes, typeNormal)
	}
	for _, tok := range []struct {
		text string
		typ  int32
	}{
		{"hi", typeNormal},             // 256
		{"Ġhi", typeNormal},            // 257
		{"<|im_start|>", typeControl},  // 258
		{"<|im_end|>", typeControl},    // 259
		{"<|endoftext|>", typeControl}, // 260
		{"<think>", typeUserDefined},   // 261
		{"[PAD262]", typeUnused},       // 262
	} {
		v.Tokens = append(v.Tokens, tok.text)
		v.TokenTypes = append(v.TokenTypes, tok.typ)
	}
	v.Merges = []string{"h i", "Ġ hi"}
	v.EOS = 260
	return v
}

// tinySentencePiece is a SentencePiece vocabulary with byte fallback.
func tinySentencePiece() Vocab {
	v := Vocab{Model: "llama", Pre: "default", BOS: 1, EOS: 2, UNK: 0, PAD: -1, AddBOS: true}
	add := func(text string, score float32, typ int32) {
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, score)
		v.TokenTypes = append(v.TokenTypes, typ)
	}
	add("<unk>", 0, typeUnknown) // 0
	add("<s>", 0, typeControl)   // 1
	add("</s>", 0, typeControl)  // 2
	for b := range 256 {
		add(fmt.Sprintf("<0x%02X>", b), 0, typeByte) // 3-258
	}
	for _, p := range []struct {
		text  string
		score float32
	}{
		{"▁", 0}, {"h", 0}, {"e", 0}, {"l", 0}, {"o", 0}, // 259-263
		{"ll", -1}, {"he", -2}, {"hell", -3}, {"▁hell", -4}, {"lo", -5}, // 264-268
	} {
		add(p.text, p.score, typeNormal)
	}
	return v
}

func mustNew(t *testing.T, v Vocab) *Tokenizer {
	t.Helper()
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestNewRejectsInconsistentVocab(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(v *Vocab)
		wantErr string
	}{
		{"no tokens", func(v *Vocab) { v.Tokens, v.TokenTypes = nil, nil }, "no tokens"},
		{"unknown model", func(v *Vocab) { v.Model = "wordpiece" }, `unsupported model "wordpiece"`},
		{"short scores", func(v *Vocab) { v.Scores = []float32{0} }, "1 scores for 263 tokens"},
		{"short token types", func(v *Vocab) { v.TokenTypes = v.TokenTypes[:3] }, "3 token types for 263 tokens"},
		{"bad token type", func(v *Vocab) { v.TokenTypes[5] = 9 }, "unknown type 9"},
		{"EOS out of range", func(v *Vocab) { v.EOS = 263 }, "EOS id 263 outside vocabulary"},
		{"negative UNK", func(v *Vocab) { v.UNK = -2 }, "UNK id -2"},
		{"AddBOS without BOS", func(v *Vocab) { v.AddBOS = true }, "AddBOS is set but"},
		{"AddEOS without EOS", func(v *Vocab) { v.AddEOS, v.EOS = true, -1 }, "AddEOS is set but"},
		{"no merges", func(v *Vocab) { v.Merges = nil }, "needs merges"},
		{"unknown pre-tokenizer", func(v *Vocab) { v.Pre = "bloom" }, `unsupported pre-tokenizer "bloom"`},
		{"malformed merge", func(v *Vocab) { v.Merges = append(v.Merges, "hi") }, `merge 2 "hi" is not two tokens`},
		{"merge of unknown token", func(v *Vocab) { v.Merges = append(v.Merges, "h ☃") }, `merge 2 "h ☃" uses or makes a token missing`},
		{"merge into unknown token", func(v *Vocab) { v.Merges = append(v.Merges, "a b") }, `merge 2 "a b" uses or makes`},
		{"sentencepiece without scores", func(v *Vocab) { v.Model = "llama" }, "needs scores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tinyByteLevel()
			tt.edit(&v)
			_, err := New(v)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestPreTokenizers(t *testing.T) {
	tests := []struct {
		pre  string
		text string
		want []string
	}{
		// \s+(?!\S): the last space of a run goes to the next word; a run at the end stays whole.
		{"gpt2", "a  b  ", []string{"a", " ", " b", "  "}},
		{"gpt2", "Hello world's 12ab!?\n\n", []string{"Hello", " world", "'s", " 12", "ab", "!?", "\n\n"}},
		{"gpt2", "I'M", []string{"I", "'", "M"}}, // contractions are case-sensitive
		{"gpt2", "x \t y", []string{"x", " \t", " y"}},
		// \s is Unicode White_Space: U+0085 is a space, U+FEFF (format) is not.
		{"gpt2", "a\u0085\u0085b\ufeff", []string{"a", "\u0085", "\u0085", "b", "\ufeff"}},
		{"llama-bpe", "I'M we'Ll", []string{"I", "'M", " we", "'Ll"}},
		{"llama-bpe", "12345 x", []string{"123", "45", " x"}},
		{"llama-bpe", "x\n\n  y", []string{"x", "\n\n", " ", " y"}},
		{"llama-bpe", "\tfoo", []string{"\tfoo"}},
		{"llama-bpe", " {}\n\nx", []string{" {}\n\n", "x"}},
		{"llama-bpe", "a \n b", []string{"a", " \n", " b"}},
		{"qwen2", "12345", []string{"1", "2", "3", "4", "5"}},
		{"qwen2", "日本語abc", []string{"日本語abc"}},
	}
	for _, tt := range tests {
		if got := preTokenizers[tt.pre](tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("%s(%q) = %q, want %q", tt.pre, tt.text, got, tt.want)
		}
	}
}

func TestByteLevelEncode(t *testing.T) {
	tok := mustNew(t, tinyByteLevel())
	tests := []struct {
		text string
		want []int
	}{
		{"hi hi", []int{256, 257}},
		{"é", []int{0xC3, 0xA9}}, // two bytes, no merges
		{"<|im_start|>hi<|im_end|>", []int{258, 256, 259}},
		{"<|im_start", []int{'<', '|', 'i', 'm', '_', 's', 't', 'a', 'r', 't'}}, // a prefix is text
		{"<think>hi", []int{261, 256}},
	}
	for _, tt := range tests {
		if got := tok.Encode(tt.text, false); !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q) = %v, want %v", tt.text, got, tt.want)
		}
		if got := tok.Decode(tt.want); got != tt.text {
			t.Errorf("Decode(%v) = %q, want %q", tt.want, got, tt.text)
		}
	}
	if got := tok.Decode([]int{262, -1, 10_000}); got != "" {
		t.Errorf("unused and out-of-range ids decode to %q, want nothing", got)
	}
}

func TestSentencePieceEncode(t *testing.T) {
	tok := mustNew(t, tinySentencePiece())
	tests := []struct {
		text       string
		addSpecial bool
		want       []int
		decoded    string
	}{
		// ll (-1), he (-2), hell (-3), ▁hell (-4) merge in score order; "lo" would
		// score -5 but "l" is already taken by "ll".
		{"hello", false, []int{267, 263}, "hello"},
		{"hello", true, []int{1, 267, 263}, "<s>hello"},
		{"", true, []int{1}, "<s>"},
		// é is not in the vocabulary: byte fallback.
		{"é", false, []int{259, 3 + 0xC3, 3 + 0xA9}, "é"},
		// After a special token the space prefix is added again.
		{"he</s>lo", false, []int{259, 265, 2, 259, 268}, "he</s> lo"},
	}
	for _, tt := range tests {
		got := tok.Encode(tt.text, tt.addSpecial)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Encode(%q, %v) = %v %q, want %v", tt.text, tt.addSpecial, got, tokenTexts(tok, got), tt.want)
		}
		if got := tok.Decode(tt.want); got != tt.decoded {
			t.Errorf("Decode(%v) = %q, want %q", tt.want, got, tt.decoded)
		}
	}

	noBytes := tinySentencePiece()
	for id := 3; id < 259; id++ {
		noBytes.TokenTypes[id] = typeUnused
		noBytes.Tokens[id] = fmt.Sprintf("[unused%d]", id)
	}
	if got := mustNew(t, noBytes).Encode("é", false); !slices.Equal(got, []int{259, 0, 0}) {
		t.Errorf("without byte tokens Encode(é) = %v, want ▁ and <unk> per byte", got)
	}
}

func TestAddSpecialAndEOG(t *testing.T) {
	v := tinyByteLevel()
	v.BOS, v.AddBOS, v.AddEOS = 258, true, true
	tok := mustNew(t, v)
	if got, want := tok.Encode("hi", true), []int{258, 256, 260}; !slices.Equal(got, want) {
		t.Errorf("Encode(hi, true) = %v, want %v", got, want)
	}
	if tok.BOS() != 258 || tok.EOS() != 260 || tok.VocabSize() != 263 || tok.TokenText(257) != "Ġhi" {
		t.Errorf("BOS %d EOS %d VocabSize %d TokenText(257) %q", tok.BOS(), tok.EOS(), tok.VocabSize(), tok.TokenText(257))
	}
	for id, want := range map[int]bool{260: true, 259: true, 258: false, 256: false, -1: false} {
		if got := tok.IsEOG(id); got != want {
			t.Errorf("IsEOG(%d %q) = %v, want %v", id, tok.TokenText(id), got, want)
		}
	}
}

func TestStreamDecoder(t *testing.T) {
	byteLevel := mustNew(t, tinyByteLevel())
	sentencePiece := mustNew(t, tinySentencePiece())
	b := func(x byte) int { return 3 + int(x) } // SentencePiece <0xNN> id
	tests := []struct {
		name  string
		tok   *Tokenizer
		ids   []int
		want  []string // what each Next returns
		flush string
	}{
		{"byte-level fragments of é and 😀", byteLevel,
			[]int{0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 256},
			[]string{"", "é", "", "", "", "😀", "hi"}, ""},
		{"byte fallback tokens", sentencePiece,
			[]int{259, b(0xE2), b(0x82), b(0xAC), 267},
			[]string{" ", "", "", "€", " hell"}, ""},
		{"interrupted character becomes U+FFFD", byteLevel,
			[]int{0xE2, 259, 0x82},
			[]string{"", "\uFFFD<|im_end|>", "\uFFFD"}, ""},
		{"invalid byte becomes U+FFFD at once", sentencePiece,
			[]int{b(0xFF), 263},
			[]string{"\uFFFD", "o"}, ""},
		{"incomplete character is flushed as U+FFFD", byteLevel,
			[]int{256, 0xF0, 0x9F},
			[]string{"hi", "", ""}, "\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.tok.NewStreamDecoder()
			for i, id := range tt.ids {
				if got := d.Next(id); got != tt.want[i] {
					t.Errorf("Next(%d %q) = %q, want %q", id, tt.tok.TokenText(id), got, tt.want[i])
				}
			}
			if got := d.Flush(); got != tt.flush {
				t.Errorf("Flush() = %q, want %q", got, tt.flush)
			}
			if got := d.Flush(); got != "" {
				t.Errorf("second Flush() = %q, want empty", got)
			}
		})
	}
}

func TestRunsCutAtCharacterBoundaries(t *testing.T) {
	text := "ab€cd€€e" // € is 3 bytes
	got := runs(text, 4)
	if strings.Join(got, "|") != "ab|€c|d€|€e" {
		t.Fatalf("runs = %q", got)
	}
	for _, r := range got {
		if len(r) > 4 || !utf8.ValidString(r) {
			t.Errorf("run %q is longer than 4 bytes or cuts a character", r)
		}
	}
	if got := runs(text, 100); len(got) != 1 {
		t.Errorf("short text cut: %q", got)
	}
}
