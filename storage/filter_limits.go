package storage

import "fmt"

// Limits on filters, for every filter a client or an admin writes (SCIM
// list and search requests, a source's scope). The filter parser and the
// walks over its tree are recursive, so a filter is measured by a linear
// scan of its text before anything recursive sees it.
const (
	// MaxFilterLength is the longest filter text in bytes: room for 1,000
	// terms of the form id eq "<uuid>" or ...
	MaxFilterLength = 64 << 10
	// MaxFilterDepth bounds the nesting of parentheses and value-path
	// brackets. A "not" always takes a parenthesised operand, so this
	// bounds nested negations too.
	MaxFilterDepth = 32
	// MaxFilterTerms bounds the comparisons joined by and/or.
	MaxFilterTerms = 1000
)

// CheckFilterText measures raw in one pass, outside string literals:
// nesting of ( and [, the number of terms (and/or words plus one) and
// length. The scan is linear and the text already bounded by the request
// size limits, so the more telling limits are reported first. It answers an InvalidError naming the limit exceeded; a filter
// within the limits may still be invalid syntax, which the parser reports.
func CheckFilterText(raw string) error {
	depth, deepest, joins := 0, 0, 0
	wordStart := -1
	endWord := func(i int) {
		if wordStart >= 0 && isJoinWord(raw[wordStart:i]) {
			joins++
		}
		wordStart = -1
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if isWordByte(c) {
			if wordStart < 0 {
				wordStart = i
			}
			continue
		}
		endWord(i)
		switch c {
		case '"':
			// Skip the string literal; an unterminated one ends the scan
			// and is left to the parser to reject.
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			depth++
			deepest = max(deepest, depth)
		case ')', ']':
			depth--
		}
	}
	endWord(len(raw))
	if deepest > MaxFilterDepth {
		return Invalid(fmt.Sprintf("the filter nests %d levels deep; the limit is %d", deepest, MaxFilterDepth))
	}
	if joins+1 > MaxFilterTerms {
		return Invalid(fmt.Sprintf("the filter has %d terms joined by and/or; the limit is %d", joins+1, MaxFilterTerms))
	}
	if len(raw) > MaxFilterLength {
		return Invalid(fmt.Sprintf("the filter is %d bytes long; the limit is %d", len(raw), MaxFilterLength))
	}
	return nil
}

// isWordByte reports whether c may be part of an attribute name or
// keyword; "or" inside "color" or "urn:...:core" is then no join.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':' || c >= 0x80
}

func isJoinWord(w string) bool {
	switch len(w) {
	case 2:
		return (w[0]|0x20) == 'o' && (w[1]|0x20) == 'r'
	case 3:
		return (w[0]|0x20) == 'a' && (w[1]|0x20) == 'n' && (w[2]|0x20) == 'd'
	}
	return false
}
