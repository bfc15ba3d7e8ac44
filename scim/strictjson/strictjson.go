// Package strictjson checks that a request body is one JSON value and
// nothing else: no trailing data, no duplicate object keys, bounded nesting
// and valid UTF-8. encoding/json accepts a body followed by garbage (when
// read with a Decoder), lets a duplicate key silently win, and replaces
// invalid UTF-8 with U+FFFD; a request that says two things at once is
// refused here instead of being guessed at.
//
// Check is a single forward scan with an explicit stack (no recursion, so
// no input can exhaust the goroutine stack); it allocates one string per
// object key and nothing per other value.
package strictjson

import (
	"encoding/json"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxDepth is the nesting bound request bodies are checked with.
// The deepest SCIM body (a PATCH of an extension's complex attribute) nests
// six levels; 32 leaves room for any client without letting a body of
// nested brackets cost more than its length.
const DefaultMaxDepth = 32

// Kind says which rule a body broke.
type Kind int

const (
	Syntax    Kind = iota + 1 // not JSON, or JSON followed by more than whitespace
	Duplicate                 // an object holds the same key twice
	TooDeep                   // nesting beyond the bound
	BadUTF8                   // a byte sequence that is not UTF-8
)

// Error locates the first fault in a body.
type Error struct {
	Kind   Kind
	Offset int    // byte offset of the fault
	Msg    string // for people: what is wrong
}

func (e *Error) Error() string { return fmt.Sprintf("%s (at byte %d)", e.Msg, e.Offset) }

// Check returns nil when data is exactly one JSON value, optionally
// surrounded by whitespace, nested at most maxDepth arrays and objects
// deep, in valid UTF-8, with no object holding two keys that are equal
// case-insensitively (strings.EqualFold: SCIM attribute names are
// case-insensitive, and so are encoding/json's field names). Otherwise it
// returns an *Error.
func Check(data []byte, maxDepth int) error {
	c := checker{data: data, maxDepth: maxDepth}
	return c.run()
}

type frame struct {
	object bool
	// The folded keys seen so far: while few, back to back in folded
	// (key i ends at ends[i]), compared by a scan without allocating;
	// past smallObject, in set.
	folded []byte
	ends   []int
	set    map[string]struct{}
}

// smallObject is how many keys are compared by a linear scan before a map
// takes over, so that wide objects stay linear.
const smallObject = 16

type checker struct {
	data     []byte
	pos      int
	maxDepth int
	stack    []frame
	depth    int
	fold     []byte
}

func (c *checker) fail(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Offset: c.pos, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) skipSpace() {
	for c.pos < len(c.data) {
		switch c.data[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

type state int

const (
	wantValue state = iota
	wantKey
	afterValue
)

func (c *checker) run() error {
	st := wantValue
	for {
		c.skipSpace()
		switch st {
		case wantValue:
			if c.pos >= len(c.data) {
				return c.fail(Syntax, "unexpected end of the JSON body")
			}
			switch b := c.data[c.pos]; {
			case b == '{' || b == '[':
				if err := c.push(b == '{'); err != nil {
					return err
				}
				c.pos++
				c.skipSpace()
				if closer := closerOf(b); c.pos < len(c.data) && c.data[c.pos] == closer {
					c.pos++
					c.depth--
					st = afterValue
				} else if b == '{' {
					st = wantKey
				}
				continue
			case b == '"':
				if _, _, err := c.scanString(); err != nil {
					return err
				}
			case b == 't':
				if err := c.literal("true"); err != nil {
					return err
				}
			case b == 'f':
				if err := c.literal("false"); err != nil {
					return err
				}
			case b == 'n':
				if err := c.literal("null"); err != nil {
					return err
				}
			case b == '-' || '0' <= b && b <= '9':
				if err := c.number(); err != nil {
					return err
				}
			default:
				return c.unexpected("a value")
			}
			st = afterValue
		case wantKey:
			if c.pos >= len(c.data) || c.data[c.pos] != '"' {
				return c.unexpected("an object key")
			}
			start := c.pos
			raw, escaped, err := c.scanString()
			if err != nil {
				return err
			}
			if err := c.addKey(start, raw, escaped); err != nil {
				return err
			}
			c.skipSpace()
			if c.pos >= len(c.data) || c.data[c.pos] != ':' {
				return c.unexpected("':' after an object key")
			}
			c.pos++
			st = wantValue
		case afterValue:
			if c.depth == 0 {
				if c.pos != len(c.data) {
					return c.fail(Syntax, "unexpected data after the JSON value; send exactly one JSON value")
				}
				return nil
			}
			top := &c.stack[c.depth-1]
			closer := byte(']')
			if top.object {
				closer = '}'
			}
			switch {
			case c.pos >= len(c.data):
				return c.fail(Syntax, "unexpected end of the JSON body")
			case c.data[c.pos] == ',':
				c.pos++
				st = wantValue
				if top.object {
					st = wantKey
				}
			case c.data[c.pos] == closer:
				c.pos++
				c.depth--
			default:
				return c.unexpected(fmt.Sprintf("',' or '%c'", closer))
			}
		}
	}
}

func closerOf(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

func (c *checker) unexpected(want string) error {
	if c.pos >= len(c.data) {
		return c.fail(Syntax, "unexpected end of the JSON body, want %s", want)
	}
	return c.fail(Syntax, "unexpected %q, want %s", c.data[c.pos], want)
}

// push opens an array or object, reusing the frame of an earlier sibling.
func (c *checker) push(object bool) error {
	if c.depth >= c.maxDepth {
		return c.fail(TooDeep, "the JSON body nests deeper than %d levels", c.maxDepth)
	}
	if c.depth == len(c.stack) {
		c.stack = append(c.stack, frame{})
	}
	f := &c.stack[c.depth]
	f.object, f.folded, f.ends = object, f.folded[:0], f.ends[:0]
	if f.set != nil {
		clear(f.set)
	}
	c.depth++
	return nil
}

// addKey records an object key; raw is its text between the quotes.
func (c *checker) addKey(start int, raw []byte, escaped bool) error {
	key := raw
	if escaped {
		var s string
		if err := json.Unmarshal(c.data[start:c.pos], &s); err != nil {
			return &Error{Kind: Syntax, Offset: start, Msg: "invalid object key"}
		}
		key = []byte(s)
	}
	c.fold = foldKey(c.fold[:0], key)
	f := &c.stack[c.depth-1]
	dup := false
	if f.set != nil {
		_, dup = f.set[string(c.fold)]
	} else {
		start := 0
		for _, end := range f.ends {
			if string(f.folded[start:end]) == string(c.fold) {
				dup = true
				break
			}
			start = end
		}
	}
	if dup {
		return &Error{Kind: Duplicate, Offset: start, Msg: fmt.Sprintf("the key %q appears twice in one object (keys are case-insensitive)", key)}
	}
	switch {
	case f.set != nil:
		f.set[string(c.fold)] = struct{}{}
	case len(f.ends) < smallObject:
		f.folded = append(f.folded, c.fold...)
		f.ends = append(f.ends, len(f.folded))
	default:
		f.set = make(map[string]struct{}, 2*smallObject)
		begin := 0
		for _, end := range f.ends {
			f.set[string(f.folded[begin:end])] = struct{}{}
			begin = end
		}
		f.set[string(c.fold)] = struct{}{}
	}
	return nil
}

// foldKey appends to dst a spelling of key shared by every key that
// strings.EqualFold matches with it: each rune becomes the smallest rune of
// its case-folding orbit.
func foldKey(dst, key []byte) []byte {
	for i := 0; i < len(key); {
		b := key[i]
		if b < utf8.RuneSelf {
			if 'a' <= b && b <= 'z' {
				b -= 'a' - 'A'
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(key[i:])
		i += size
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		dst = utf8.AppendRune(dst, least)
	}
	return dst
}

// scanString moves past the string at c.pos and returns its raw content.
func (c *checker) scanString() (raw []byte, escaped bool, err error) {
	start := c.pos
	i := c.pos + 1
	for i < len(c.data) {
		b := c.data[i]
		switch {
		case b == '"':
			c.pos = i + 1
			return c.data[start+1 : i], escaped, nil
		case b == '\\':
			escaped = true
			if i+1 >= len(c.data) {
				c.pos = i
				return nil, false, c.fail(Syntax, "unterminated string")
			}
			switch c.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(c.data) || !isHex4(c.data[i+2:i+6]) {
					c.pos = i
					return nil, false, c.fail(Syntax, `invalid \u escape in a string`)
				}
				i += 6
			default:
				c.pos = i
				return nil, false, c.fail(Syntax, "invalid escape in a string")
			}
		case b < 0x20:
			c.pos = i
			return nil, false, c.fail(Syntax, "control character in a string; escape it")
		case b < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(c.data[i:])
			if r == utf8.RuneError && size == 1 {
				c.pos = i
				return nil, false, c.fail(BadUTF8, "the body is not valid UTF-8")
			}
			i += size
		}
	}
	c.pos = i
	return nil, false, c.fail(Syntax, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, x := range b {
		if !('0' <= x && x <= '9' || 'a' <= x && x <= 'f' || 'A' <= x && x <= 'F') {
			return false
		}
	}
	return true
}

func (c *checker) literal(word string) error {
	if len(c.data)-c.pos < len(word) || string(c.data[c.pos:c.pos+len(word)]) != word {
		return c.unexpected("a value")
	}
	c.pos += len(word)
	return nil
}

// number moves past a number as RFC 8259 §6 spells it.
func (c *checker) number() error {
	d := c.data
	i := c.pos
	if d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		c.pos = i
		return c.fail(Syntax, "invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			c.pos = i
			return c.fail(Syntax, "invalid number")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			c.pos = i
			return c.fail(Syntax, "invalid number")
		}
	}
	c.pos = i
	return nil
}
