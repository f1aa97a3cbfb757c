// Package tokenizer turns text into token ids and back for the vocabularies
// that GGUF files carry, reproducing llama.cpp's tokenizers:
//
//   - Model "gpt2": byte-level BPE (GPT-2, Llama-3, Qwen2/3, ...) with the
//     pre-tokenizer named by Vocab.Pre.
//   - Model "llama": SentencePiece BPE with byte fallback (Llama-2, Mistral).
//
// Special tokens (BOS/EOS/UNK/PAD and every control, user-defined or unknown
// token) are matched in the input text before BPE runs, as llama.cpp does with
// parse_special=true (Encode). Text from users goes through EncodeText, which
// is llama.cpp's parse_special=false: control tokens (BOS/EOS/UNK/PAD,
// control and unknown types) are spelled as plain text there, so a user cannot
// write "<|im_end|>" and get the end of their turn; user-defined tokens are
// still matched, as they are part of the ordinary vocabulary. EncodeLiteral
// serves chat prompts: template text with special tokens, message content
// without. When decoding, control tokens keep their text (llama.cpp's
// token_to_piece with special=true), so a chat transcript decodes to the
// template text that produced it; unused tokens decode to nothing.
package tokenizer

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Token types as llama.cpp stores them in tokenizer.ggml.token_type.
const (
	typeUndefined   = 0
	typeNormal      = 1
	typeUnknown     = 2
	typeControl     = 3
	typeUserDefined = 4
	typeUnused      = 5
	typeByte        = 6
)

// Vocab is the tokenizer part of a GGUF file's metadata.
type Vocab struct {
	Model      string    // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece BPE)
	Pre        string    // tokenizer.ggml.pre: "gpt2", "llama-bpe" (Llama-3), "qwen2", "default", ...
	Tokens     []string  // tokenizer.ggml.tokens
	Scores     []float32 // tokenizer.ggml.scores (may be nil)
	TokenTypes []int32   // tokenizer.ggml.token_type (may be nil); 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
	Merges     []string  // tokenizer.ggml.merges, "a b" (may be nil)

	BOS, EOS, UNK, PAD int // -1 when absent
	AddBOS, AddEOS     bool
	// NoSpacePrefix: SentencePiece text gets no leading space
	// (tokenizer.ggml.add_space_prefix false, as Gemma's converter writes).
	NoSpacePrefix bool
}

// Tokenizer encodes and decodes text for one vocabulary. It is safe for
// concurrent use.
type Tokenizer struct {
	vocab     Vocab
	tokenToID map[string]int
	pieces    [][]byte // what each token decodes to

	// Byte-level BPE.
	preTokenize  func(string) []string
	merges       map[uint64]merge // key: left id << 32 | right id
	byteToSymbol [256]string      // GPT-2's byte → printable rune mapping
	ignoreMerges bool             // Llama-3: a pre-token that is a whole vocabulary entry is taken as is

	// SentencePiece BPE.
	byteTokens [256]int // <0xNN> ids, -1 when absent

	specials     []int          // ids matched in input text, longest text first
	specialsByB0 map[byte][]int // specials indexed by their first byte
	// control marks the specials that only trusted text may produce (see
	// EncodeText): BOS/EOS/UNK/PAD and control and unknown tokens.
	control map[int]bool
	// maxTokenBytes is the most input bytes one token can stand for (see MinTokens).
	maxTokenBytes int
	eog           map[int]bool
}

type merge struct {
	rank   int32
	result int32
}

// endOfGenerationTexts are the texts llama.cpp treats as end of generation
// besides EOS, so chat models stop at the end of their turn.
var endOfGenerationTexts = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
	"<|eom_id|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<|end_of_text|>",
}

// New checks v and builds its tokenizer. The tokenizer keeps v's slices;
// do not modify them afterwards.
func New(v Vocab) (*Tokenizer, error) {
	if err := validate(&v); err != nil {
		return nil, err
	}
	t := &Tokenizer{
		vocab:     v,
		tokenToID: make(map[string]int, len(v.Tokens)),
		eog:       map[int]bool{},
	}
	for id, text := range v.Tokens {
		// The first id wins, so an added token that duplicates a base token
		// does not hide it.
		if _, dup := t.tokenToID[text]; !dup {
			t.tokenToID[text] = id
		}
	}
	var err error
	switch v.Model {
	case "gpt2":
		err = t.initByteLevel()
	case "llama":
		t.initSentencePiece()
	}
	if err != nil {
		return nil, err
	}
	t.initSpecials()
	t.maxTokenBytes = 1 // a byte the vocabulary lacks becomes one UNK token, or nothing
	for _, p := range t.pieces {
		t.maxTokenBytes = max(t.maxTokenBytes, len(p))
	}
	for _, id := range t.specials { // matched by their text, which can be longer than their piece
		t.maxTokenBytes = max(t.maxTokenBytes, len(v.Tokens[id]))
	}
	if v.EOS >= 0 {
		t.eog[v.EOS] = true
	}
	for _, text := range endOfGenerationTexts {
		if id, ok := t.tokenToID[text]; ok {
			t.eog[id] = true
		}
	}
	return t, nil
}

func validate(v *Vocab) error {
	n := len(v.Tokens)
	if n == 0 {
		return errors.New("tokenizer: vocabulary has no tokens")
	}
	if v.Scores != nil && len(v.Scores) != n {
		return fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.TokenTypes != nil && len(v.TokenTypes) != n {
		return fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.TokenTypes), n)
	}
	for id, typ := range v.TokenTypes {
		if typ < typeUndefined || typ > typeByte {
			return fmt.Errorf("tokenizer: token %d (%q) has unknown type %d", id, v.Tokens[id], typ)
		}
	}
	for _, s := range []struct {
		name string
		id   int
	}{{"BOS", v.BOS}, {"EOS", v.EOS}, {"UNK", v.UNK}, {"PAD", v.PAD}} {
		if s.id < -1 || s.id >= n {
			return fmt.Errorf("tokenizer: %s id %d outside vocabulary of %d tokens", s.name, s.id, n)
		}
	}
	if v.AddBOS && v.BOS < 0 {
		return errors.New("tokenizer: AddBOS is set but the vocabulary has no BOS token")
	}
	if v.AddEOS && v.EOS < 0 {
		return errors.New("tokenizer: AddEOS is set but the vocabulary has no EOS token")
	}
	switch v.Model {
	case "gpt2":
		if len(v.Merges) == 0 {
			return errors.New(`tokenizer: model "gpt2" (byte-level BPE) needs merges`)
		}
		if _, ok := preTokenizers[v.Pre]; !ok {
			return fmt.Errorf("tokenizer: unsupported pre-tokenizer %q (supported: %s)", v.Pre, supportedPreTokenizers())
		}
	case "llama":
		if v.Scores == nil {
			return errors.New(`tokenizer: model "llama" (SentencePiece) needs scores`)
		}
	default:
		return fmt.Errorf(`tokenizer: unsupported model %q (supported: "gpt2", "llama")`, v.Model)
	}
	return nil
}

func (t *Tokenizer) tokenType(id int) int32 {
	if t.vocab.TokenTypes == nil {
		return typeNormal
	}
	return t.vocab.TokenTypes[id]
}

// initSpecials collects the tokens that are cut out of input text whole.
func (t *Tokenizer) initSpecials() {
	isSpecial := map[int]bool{}
	t.control = map[int]bool{}
	for _, id := range []int{t.vocab.BOS, t.vocab.EOS, t.vocab.UNK, t.vocab.PAD} {
		if id >= 0 {
			isSpecial[id], t.control[id] = true, true
		}
	}
	for id := range t.vocab.Tokens {
		switch t.tokenType(id) {
		case typeControl, typeUnknown:
			isSpecial[id], t.control[id] = true, true
		case typeUserDefined:
			isSpecial[id] = true
		}
	}
	for id := range isSpecial {
		if t.vocab.Tokens[id] != "" {
			t.specials = append(t.specials, id)
		}
	}
	// Longest first so that "<|im_end|>" wins over a shorter token it starts
	// with; ties by id keep the order deterministic.
	sort.Slice(t.specials, func(i, j int) bool {
		a, b := t.vocab.Tokens[t.specials[i]], t.vocab.Tokens[t.specials[j]]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return t.specials[i] < t.specials[j]
	})
	t.specialsByB0 = map[byte][]int{}
	for _, id := range t.specials {
		b0 := t.vocab.Tokens[id][0]
		t.specialsByB0[b0] = append(t.specialsByB0[b0], id)
	}
}

// Encode returns the token ids of text, which is trusted (a chat template's
// output, the worker's own text). Special token texts in text become those
// tokens (the longest one at the leftmost position wins); the rest is
// BPE-encoded. With addSpecial, BOS and EOS are added as the vocabulary asks
// (AddBOS, AddEOS).
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	return t.encode(text, addSpecial, nil)
}

// EncodeText is Encode for text a user wrote (llama.cpp's
// parse_special=false): the texts of control tokens are encoded as the plain
// text they are, so only user-defined tokens are cut out.
func (t *Tokenizer) EncodeText(text string, addSpecial bool) []int {
	return t.encode(text, addSpecial, func(id, _, _ int) bool { return !t.control[id] })
}

// EncodeLiteral is Encode for a chat prompt: literal lists the byte ranges of
// text, in order and not overlapping, that came from message content and must
// not become control tokens; a control token is matched only where it touches
// none of them, so only the template's own text produces one.
func (t *Tokenizer) EncodeLiteral(text string, literal [][2]int, addSpecial bool) []int {
	return t.encode(text, addSpecial, func(id, start, end int) bool {
		if !t.control[id] {
			return true
		}
		// The first range that ends after start is the only one that can overlap.
		i := sort.Search(len(literal), func(i int) bool { return literal[i][1] > start })
		return i == len(literal) || literal[i][0] >= end
	})
}

// ControlTexts returns the texts of the control tokens: what EncodeText spells
// as plain text and a chat template must keep apart from message content.
func (t *Tokenizer) ControlTexts() []string {
	var texts []string
	for _, id := range t.specials {
		if t.control[id] {
			texts = append(texts, t.vocab.Tokens[id])
		}
	}
	return texts
}

// MinTokens is a lower bound on the tokens any Encode variant makes of a text
// of n bytes: no token stands for more than the longest token's bytes. A
// prompt whose MinTokens already exceeds a limit can be refused untokenized.
func (t *Tokenizer) MinTokens(n int) int {
	return (n + t.maxTokenBytes - 1) / t.maxTokenBytes
}

// encode tokenizes text; allow, when set, says whether the special token id
// found at text[start:end] is taken as that token rather than as text.
func (t *Tokenizer) encode(text string, addSpecial bool, allow func(id, start, end int) bool) []int {
	var ids []int
	if addSpecial && t.vocab.AddBOS {
		ids = append(ids, t.vocab.BOS)
	}
	// SentencePiece prefixes a space to the text at the start and after every
	// special token (llama.cpp's add_space_prefix with is_prev_special).
	prevSpecial := true
	start := 0
	emitText := func(end int) {
		if end > start {
			ids = t.encodeText(ids, text[start:end], prevSpecial)
			prevSpecial = false
		}
	}
	for i := 0; i < len(text); {
		id, ok := t.specialAt(text, i, allow)
		if !ok {
			i++
			continue
		}
		emitText(i)
		ids = append(ids, id)
		prevSpecial = true
		i += len(t.vocab.Tokens[id])
		start = i
	}
	emitText(len(text))
	if addSpecial && t.vocab.AddEOS {
		ids = append(ids, t.vocab.EOS)
	}
	return ids
}

// specialAt returns the longest special token starting at text[i:] that
// allow (nil: any) accepts.
func (t *Tokenizer) specialAt(text string, i int, allow func(id, start, end int) bool) (int, bool) {
	for _, id := range t.specialsByB0[text[i]] {
		tok := t.vocab.Tokens[id]
		if strings.HasPrefix(text[i:], tok) && (allow == nil || allow(id, i, i+len(tok))) {
			return id, true
		}
	}
	return 0, false
}

func (t *Tokenizer) encodeText(ids []int, text string, prefixSpace bool) []int {
	for i, run := range runs(text, maxRunBytes) {
		if t.vocab.Model == "llama" {
			ids = t.encodeSentencePiece(ids, run, prefixSpace && i == 0 && !t.vocab.NoSpacePrefix)
		} else {
			ids = t.encodeByteLevel(ids, run)
		}
	}
	return ids
}

// Decode returns the text of ids. For SentencePiece vocabularies the space
// that Encode prefixed is removed from the first token (after a leading BOS),
// so Decode(Encode(s, false)) == s for text without special tokens.
// Invalid UTF-8 produced by byte tokens is returned as is.
func (t *Tokenizer) Decode(ids []int) string {
	var b strings.Builder
	n := 0
	for _, id := range ids {
		n += len(t.piece(id))
	}
	b.Grow(n) // one allocation: a step decodes a window of tokens for every stream
	stripSpace := t.vocab.Model == "llama" && !t.vocab.NoSpacePrefix
	for i, id := range ids {
		piece := t.piece(id)
		if stripSpace && !(i == 0 && id == t.vocab.BOS) {
			piece = trimOneSpace(piece)
			stripSpace = false
		}
		b.Write(piece)
	}
	return b.String()
}

func trimOneSpace(p []byte) []byte {
	if len(p) > 0 && p[0] == ' ' {
		return p[1:]
	}
	return p
}

// piece is what id decodes to; ids outside the vocabulary decode to nothing.
func (t *Tokenizer) piece(id int) []byte {
	if id < 0 || id >= len(t.pieces) {
		return nil
	}
	return t.pieces[id]
}

// Piece returns the bytes id stands for in generated text (a control token's
// text, a SentencePiece token's leading space included), or nil outside the
// vocabulary. The slice is shared: do not modify it.
func (t *Tokenizer) Piece(id int) []byte { return t.piece(id) }

// IsControl reports whether id is a control token (BOS/EOS/UNK/PAD, control
// and unknown types): markup that only trusted text may produce.
func (t *Tokenizer) IsControl(id int) bool { return t.control[id] }

// EOS returns the end-of-sequence id, or -1.
func (t *Tokenizer) EOS() int { return t.vocab.EOS }

// BOS returns the beginning-of-sequence id, or -1.
func (t *Tokenizer) BOS() int { return t.vocab.BOS }

// IsEOG reports whether generation should stop at id: EOS and the
// end-of-turn tokens of chat models.
func (t *Tokenizer) IsEOG(id int) bool { return t.eog[id] }

// VocabSize returns the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.vocab.Tokens) }

// TokenText returns the vocabulary entry of id as stored (e.g. "Ġthe",
// "▁the", "<0x0A>"), or "" for ids outside the vocabulary.
func (t *Tokenizer) TokenText(id int) string {
	if id < 0 || id >= len(t.vocab.Tokens) {
		return ""
	}
	return t.vocab.Tokens[id]
}
