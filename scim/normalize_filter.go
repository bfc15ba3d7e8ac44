package scim

import "strings"

// The filter half of client-quirk normalisation (see normalize.go).

// rewriteFilterSubAttr turns each `attr[cond].sub op value` of a filter
// into the RFC form `attr[cond and sub op value]`, which selects the same
// resources. A value filter containing "or" is left alone (the parser has
// no parentheses inside brackets, so "and" would bind to the last
// alternative only), and so is anything it cannot read with certainty; the
// filter compiler then rejects the filter as before.
func rewriteFilterSubAttr(f string) (string, bool) {
	var out strings.Builder
	last, open := 0, -1 // f[:last] is in out; open is the index of the current '['
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '"':
			j, ok := skipString(f, i)
			if !ok {
				return f, false
			}
			i = j
		case '[':
			if open >= 0 {
				return f, false
			}
			open = i
		case ']':
			if open < 0 {
				return f, false
			}
			if cmp, end, ok := subAttrComparison(f, i+1); ok && !hasWord(f[open+1:i], "or") {
				out.WriteString(f[last:i])
				out.WriteString(" and ")
				out.WriteString(cmp)
				out.WriteByte(']')
				last, i = end, end-1
			}
			open = -1
		}
	}
	if last == 0 {
		return f, false
	}
	out.WriteString(f[last:])
	return out.String(), true
}

var filterOperators = map[string]bool{
	"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true, "pr": true,
}

// subAttrComparison reads ".sub op value" (or ".sub pr") at f[k:]; cmp is
// the text after the dot and end the index just past the comparison.
func subAttrComparison(f string, k int) (cmp string, end int, ok bool) {
	if k >= len(f) || f[k] != '.' {
		return "", 0, false
	}
	i := k + 1
	for i < len(f) && (isAlpha(f[i]) || i > k+1 && (isDigit(f[i]) || f[i] == '_' || f[i] == '-')) {
		i++
	}
	if i == k+1 || i >= len(f) || f[i] != ' ' {
		return "", 0, false
	}
	i = skipSpaces(f, i)
	if i+2 > len(f) || !filterOperators[strings.ToLower(f[i:i+2])] {
		return "", 0, false
	}
	op := strings.ToLower(f[i : i+2])
	i += 2
	if op != "pr" {
		if i >= len(f) || f[i] != ' ' {
			return "", 0, false
		}
		i = skipSpaces(f, i)
		switch {
		case i >= len(f):
			return "", 0, false
		case f[i] == '"':
			j, ok := skipString(f, i)
			if !ok {
				return "", 0, false
			}
			i = j + 1
		default:
			start := i
			for i < len(f) && f[i] != ' ' && f[i] != ')' && f[i] != '[' && f[i] != ']' && f[i] != '"' {
				i++
			}
			if i == start {
				return "", 0, false
			}
		}
	}
	if i < len(f) && f[i] != ' ' && f[i] != ')' {
		return "", 0, false
	}
	return f[k+1 : i], i, true
}

// skipString returns the index of the quote closing the string at f[i].
func skipString(f string, i int) (int, bool) {
	for j := i + 1; j < len(f); j++ {
		switch f[j] {
		case '\\':
			j++
		case '"':
			return j, true
		}
	}
	return 0, false
}

// hasWord reports whether s has word w (case-insensitively) outside
// string literals.
func hasWord(s, w string) bool {
	var word strings.Builder
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] == '"' {
			j, ok := skipString(s, i)
			if !ok {
				return true
			}
			i = j
			word.Reset()
			continue
		}
		if i < len(s) && isAlpha(s[i]) {
			word.WriteByte(s[i])
			continue
		}
		if strings.EqualFold(word.String(), w) {
			return true
		}
		word.Reset()
	}
	return false
}

func skipSpaces(f string, i int) int {
	for i < len(f) && f[i] == ' ' {
		i++
	}
	return i
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
