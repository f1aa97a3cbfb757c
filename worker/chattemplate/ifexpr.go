package chattemplate

import (
	"strings"
	"unicode"
)

// rewriteInlineIfs makes the conditional expressions a template writes inside
// brackets parseable: gonja takes `A if B else C` only as a whole `{{ }}`
// expression, while templates write it inside parentheses too (Gemma 3's
// `+ (first_user_prefix if loop.first else "")`). Each one inside a pair of
// parentheses becomes `((B) and [A] or [C])[0]`, which evaluates only the
// branch B picks (and/or give back an operand, and a one-item list is always
// true) and gives its value. Only the code of `{{ }}` and `{% %}` tags is
// touched, never text or string literals.
func rewriteInlineIfs(src string) string {
	var b strings.Builder
	for {
		open := -1
		for _, t := range []string{"{{", "{%", "{#"} {
			if j := strings.Index(src, t); j >= 0 && (open < 0 || j < open) {
				open = j
			}
		}
		if open < 0 {
			b.WriteString(src)
			return b.String()
		}
		if src[open+1] == '#' { // a comment, copied as it is
			end := strings.Index(src[open:], "#}")
			if end < 0 {
				b.WriteString(src)
				return b.String()
			}
			b.WriteString(src[:open+end+2])
			src = src[open+end+2:]
			continue
		}
		closeTag := "}}"
		if src[open+1] == '%' {
			closeTag = "%}"
		}
		end := tagEnd(src, open+2, closeTag)
		if end < 0 { // unterminated: the parser reports it
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:open+2])
		b.WriteString(rewriteCode(src[open+2 : end]))
		src = src[end:]
	}
}

// tagEnd is the index of closeTag ending the tag whose code starts at from,
// skipping string literals; -1 if there is none.
func tagEnd(src string, from int, closeTag string) int {
	for i := from; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\'' || c == '"':
			i = stringEnd(src, i)
		case strings.HasPrefix(src[i:], closeTag):
			return i
		}
	}
	return -1
}

// stringEnd is the index of the quote closing the string literal opening at i
// (len(src)-1 when it is not closed).
func stringEnd(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return len(src) - 1
}

// rewriteCode rewrites the parenthesized groups of code, innermost first.
func rewriteCode(code string) string {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '\'', '"':
			j := stringEnd(code, i)
			b.WriteString(code[i : j+1])
			i = j
		case '(':
			j := matchingParen(code, i)
			if j < 0 {
				b.WriteString(code[i:])
				return b.String()
			}
			b.WriteByte('(')
			b.WriteString(rewriteItems(rewriteCode(code[i+1 : j])))
			b.WriteByte(')')
			i = j
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// matchingParen is the index of the ')' closing the '(' at i, -1 if none.
func matchingParen(code string, i int) int {
	depth := 0
	for j := i; j < len(code); j++ {
		switch code[j] {
		case '\'', '"':
			j = stringEnd(code, j)
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth--; depth == 0 {
				return j
			}
		}
	}
	return -1
}

// rewriteItems rewrites each comma-separated item of a group's code (a tuple,
// a call's arguments) that is a conditional expression.
func rewriteItems(code string) string {
	items := splitTop(code, func(s string, i int) int {
		if s[i] == ',' {
			return 1
		}
		return 0
	})
	for k, item := range items {
		items[k] = rewriteIf(item)
	}
	return strings.Join(items, ",")
}

// rewriteIf turns `A if B else C` (at the top level of item) into the and/or
// form; anything else is returned as it is.
func rewriteIf(item string) string {
	parts := splitTop(item, keyword("if"))
	if len(parts) != 2 {
		return item
	}
	cond := splitTop(parts[1], keyword("else"))
	if len(cond) != 2 || strings.TrimSpace(parts[0]) == "" {
		return item
	}
	a, c, alt := strings.TrimSpace(parts[0]), strings.TrimSpace(cond[0]), strings.TrimSpace(cond[1])
	// An else branch that is itself conditional (a if b else c if d else e) chains.
	return "((" + c + ") and [" + a + "] or [" + rewriteIf(alt) + "])[0]"
}

// keyword matches the word w outside identifiers: its length at i, else 0.
func keyword(w string) func(s string, i int) int {
	return func(s string, i int) int {
		if !strings.HasPrefix(s[i:], w) || i > 0 && isIdent(s[i-1]) || i+len(w) < len(s) && isIdent(s[i+len(w)]) {
			return 0
		}
		return len(w)
	}
}

func isIdent(c byte) bool {
	return c == '_' || c == '.' || c < 0x80 && unicode.IsLetter(rune(c)) || c >= '0' && c <= '9'
}

// splitTop splits s where sep matches outside brackets and string literals
// (sep gives the separator's length at an index, 0 where there is none); the
// first match only for keywords, every match for commas alike.
func splitTop(s string, sep func(s string, i int) int) []string {
	var out []string
	depth, last := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'', '"':
			i = stringEnd(s, i)
			continue
		case '(', '[', '{':
			depth++
			continue
		case ')', ']', '}':
			depth--
			continue
		}
		if depth == 0 {
			if n := sep(s, i); n > 0 {
				out = append(out, s[last:i])
				last = i + n
				i += n - 1
				if s[i] != ',' { // a keyword: split once
					break
				}
			}
		}
	}
	return append(out, s[last:])
}
