package grammar

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// charClass is a set of characters: ASCII ones by byte, all non-ASCII ones
// at once (negated classes, ".", \D...), or some non-ASCII ones by literal.
type charClass struct {
	ascii    byteSet // only bytes < 0x80
	nonASCII bool
	runes    []rune
}

func (c *charClass) addRune(r rune) {
	if r < 0x80 {
		c.ascii.add(byte(r))
	} else {
		c.runes = append(c.runes, r)
	}
}

func (c *charClass) negate() {
	var all byteSet
	all.addRange(0, 0x7f)
	for i := range c.ascii {
		c.ascii[i] = all[i] &^ c.ascii[i]
	}
	c.nonASCII = !c.nonASCII // callers refuse negated classes of non-ASCII literals
	c.runes = nil
}

// inString is the grammar of the class's characters as they are written
// inside a JSON string: quote, backslash and control characters escaped.
func (c *charClass) inString(j *jsonRules) Expr {
	var alts []Expr
	var plain byteSet
	for b := 0x20; b < 0x80; b++ {
		if c.ascii.has(byte(b)) && b != '"' && b != '\\' {
			plain.add(byte(b))
		}
	}
	if !plain.empty() {
		alts = append(alts, setExpr(plain))
	}
	if c.ascii.has('"') {
		alts = append(alts, Lit(`\"`))
	}
	if c.ascii.has('\\') {
		alts = append(alts, Lit(`\\`))
	}
	short := map[byte]string{'\n': `\n`, '\t': `\t`, '\r': `\r`, '\b': `\b`, '\f': `\f`}
	for b := 0; b < 0x20; b++ {
		if c.ascii.has(byte(b)) {
			if s, ok := short[byte(b)]; ok {
				alts = append(alts, Lit(s))
			} else {
				alts = append(alts, Lit(fmt.Sprintf(`\u%04x`, b)))
			}
		}
	}
	if c.nonASCII {
		alts = append(alts, j.utf8)
	} else {
		for _, r := range c.runes {
			alts = append(alts, Lit(string(r)))
		}
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return Alt(alts...)
}

// regexError is a pattern the compiler cannot turn into a grammar.
type regexError struct{ msg string }

func (e *regexError) Error() string { return e.msg }

// regexParser turns the common subset of ECMA-262 patterns into a grammar
// of the string's JSON text: literals, ".", classes with ranges and the
// \d \w \s escapes, groups, alternation, the quantifiers * + ? {n} {n,}
// {n,m}, and ^ and $ at the ends.
type regexParser struct {
	src string
	pos int
	j   *jsonRules
	// maxRepeat bounds {n,m} counts.
	maxRepeat int
}

// patternExpr compiles pattern for a JSON string's content. An unanchored
// side may hold any text, as JSON Schema's pattern matches anywhere.
func patternExpr(pattern string, j *jsonRules) (Expr, error) {
	p := &regexParser{src: pattern, j: j, maxRepeat: 1 << 10}
	anchoredStart := len(pattern) > 0 && pattern[0] == '^'
	if anchoredStart {
		p.pos++
	}
	anchoredEnd := false
	if n := len(pattern); n > p.pos && pattern[n-1] == '$' && (n < 2 || pattern[n-2] != '\\') {
		anchoredEnd = true
		p.src = pattern[:n-1]
	}
	e, err := p.alternation()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.src) {
		return nil, &regexError{fmt.Sprintf("unexpected %q at offset %d", p.src[p.pos], p.pos)}
	}
	any := Star(j.char)
	parts := []Expr{}
	if !anchoredStart {
		parts = append(parts, any)
	}
	parts = append(parts, e)
	if !anchoredEnd {
		parts = append(parts, any)
	}
	return Seq(parts...), nil
}

func (p *regexParser) more() bool { return p.pos < len(p.src) }
func (p *regexParser) peek() byte { return p.src[p.pos] }

func (p *regexParser) alternation() (Expr, error) {
	var alts []Expr
	for {
		e, err := p.concat()
		if err != nil {
			return nil, err
		}
		alts = append(alts, e)
		if !p.more() || p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return Alt(alts...), nil
}

func (p *regexParser) concat() (Expr, error) {
	var seq []Expr
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		atom, err := p.atom()
		if err != nil {
			return nil, err
		}
		atom, err = p.quantifier(atom)
		if err != nil {
			return nil, err
		}
		seq = append(seq, atom)
	}
	return Seq(seq...), nil
}

func (p *regexParser) quantifier(atom Expr) (Expr, error) {
	if !p.more() {
		return atom, nil
	}
	lo, hi := -1, -1
	switch p.peek() {
	case '*':
		lo, hi = 0, -1
		p.pos++
	case '+':
		lo, hi = 1, -1
		p.pos++
	case '?':
		lo, hi = 0, 1
		p.pos++
	case '{':
		end := p.pos + 1
		for end < len(p.src) && p.src[end] != '}' {
			end++
		}
		if end == len(p.src) {
			return nil, &regexError{"unterminated {"}
		}
		body := p.src[p.pos+1 : end]
		var err error
		if i := indexByte(body, ','); i < 0 {
			lo, err = strconv.Atoi(body)
			hi = lo
		} else {
			if lo, err = strconv.Atoi(body[:i]); err == nil {
				if body[i+1:] == "" {
					hi = -1
				} else {
					hi, err = strconv.Atoi(body[i+1:])
				}
			}
		}
		if err != nil || lo < 0 || (hi >= 0 && hi < lo) {
			return nil, &regexError{fmt.Sprintf("bad repetition {%s}", body)}
		}
		if lo > p.maxRepeat || hi > p.maxRepeat {
			return nil, &regexError{fmt.Sprintf("repetition {%s} is over %d", body, p.maxRepeat)}
		}
		p.pos = end + 1
	default:
		return atom, nil
	}
	if p.more() && p.peek() == '?' { // lazy: the same language
		p.pos++
	}
	if p.more() && (p.peek() == '*' || p.peek() == '+' || p.peek() == '{') {
		return nil, &regexError{"nested quantifier"}
	}
	return Rep(atom, lo, hi), nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func (p *regexParser) atom() (Expr, error) {
	c := p.peek()
	switch c {
	case '(':
		p.pos++
		if p.more() && p.peek() == '?' {
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == ':' {
				p.pos += 2
			} else {
				return nil, &regexError{"lookaround and named groups are not supported"}
			}
		}
		e, err := p.alternation()
		if err != nil {
			return nil, err
		}
		if !p.more() || p.peek() != ')' {
			return nil, &regexError{"unterminated group"}
		}
		p.pos++
		return e, nil
	case '[':
		cls, err := p.class()
		if err != nil {
			return nil, err
		}
		return cls.inString(p.j), nil
	case '.':
		p.pos++
		var cls charClass
		cls.ascii.add('\n')
		cls.ascii.add('\r')
		cls.negate()
		return cls.inString(p.j), nil
	case '\\':
		cls, err := p.escape(false)
		if err != nil {
			return nil, err
		}
		return cls.inString(p.j), nil
	case '^', '$':
		return nil, &regexError{fmt.Sprintf("anchor %q inside the pattern", c)}
	case '*', '+', '?', '{':
		return nil, &regexError{fmt.Sprintf("quantifier %q without an atom", c)}
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	var cls charClass
	cls.addRune(r)
	return cls.inString(p.j), nil
}

// escape reads \x at p.pos; inClass allows \b as backspace.
func (p *regexParser) escape(inClass bool) (charClass, error) {
	var cls charClass
	p.pos++
	if !p.more() {
		return cls, &regexError{"trailing backslash"}
	}
	c := p.peek()
	p.pos++
	switch c {
	case 'd', 'D':
		cls.ascii.addRange('0', '9')
	case 'w', 'W':
		cls.ascii.addRange('0', '9')
		cls.ascii.addRange('a', 'z')
		cls.ascii.addRange('A', 'Z')
		cls.ascii.add('_')
	case 's', 'S':
		for _, b := range []byte(" \t\n\r\f\v") {
			cls.ascii.add(b)
		}
	case 'n':
		cls.ascii.add('\n')
	case 't':
		cls.ascii.add('\t')
	case 'r':
		cls.ascii.add('\r')
	case 'f':
		cls.ascii.add('\f')
	case 'v':
		cls.ascii.add('\v')
	case 'u':
		if p.pos+4 > len(p.src) {
			return cls, &regexError{`bad \u escape`}
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+4], 16, 32)
		if err != nil {
			return cls, &regexError{`bad \u escape`}
		}
		p.pos += 4
		cls.addRune(rune(v))
	case 'b':
		if !inClass {
			return cls, &regexError{`word boundary \b is not supported`}
		}
		cls.ascii.add('\b')
	default:
		if c >= '0' && c <= '9' {
			return cls, &regexError{"backreferences are not supported"}
		}
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return cls, &regexError{fmt.Sprintf(`escape \%c is not supported`, c)}
		}
		cls.ascii.add(c)
	}
	if c == 'D' || c == 'W' || c == 'S' {
		cls.negate()
	}
	return cls, nil
}

func (p *regexParser) class() (charClass, error) {
	var cls charClass
	p.pos++ // [
	neg := false
	if p.more() && p.peek() == '^' {
		neg = true
		p.pos++
	}
	first := true
	for {
		if !p.more() {
			return cls, &regexError{"unterminated character class"}
		}
		if p.peek() == ']' && !first {
			p.pos++
			break
		}
		first = false
		lo, loCls, err := p.classAtom()
		if err != nil {
			return cls, err
		}
		if loCls != nil {
			cls.ascii.union(loCls.ascii)
			cls.nonASCII = cls.nonASCII || loCls.nonASCII
			continue
		}
		if p.pos+1 < len(p.src) && p.peek() == '-' && p.src[p.pos+1] != ']' {
			p.pos++
			hi, hiCls, err := p.classAtom()
			if err != nil {
				return cls, err
			}
			if hiCls != nil || hi < lo {
				return cls, &regexError{"bad range in character class"}
			}
			if hi >= 0x80 {
				return cls, &regexError{"ranges of non-ASCII characters are not supported"}
			}
			cls.ascii.addRange(byte(lo), byte(hi))
			continue
		}
		cls.addRune(lo)
	}
	if neg {
		if len(cls.runes) > 0 {
			return cls, &regexError{"negated classes of non-ASCII characters are not supported"}
		}
		cls.negate()
	}
	return cls, nil
}

// classAtom reads one character of a class, or an escape that stands for a
// set (returned as the class).
func (p *regexParser) classAtom() (rune, *charClass, error) {
	if p.peek() == '\\' {
		c := p.src[min(p.pos+1, len(p.src)-1)]
		cls, err := p.escape(true)
		if err != nil {
			return 0, nil, err
		}
		switch c {
		case 'd', 'D', 'w', 'W', 's', 'S':
			return 0, &cls, nil
		}
		for b := 0; b < 0x80; b++ {
			if cls.ascii.has(byte(b)) {
				return rune(b), nil, nil
			}
		}
		return cls.runes[0], nil, nil
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	return r, nil, nil
}
