package scim

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

// filterCompiler turns SCIM filter strings into storage expressions.
//
// Parsing and validating a filter with the library costs tens of
// microseconds, more than the indexed query it becomes, and clients send
// the same few filter shapes with different values (userName eq "..."). So
// the library parses and validates each new shape once; the parsed tree is
// cached under the filter text with its string literals blanked out, and
// later filters of that shape only bind their own literals, which the
// translator checks against each attribute's type as always.
type filterCompiler struct {
	attrs      *attrTable
	schema     schema.Schema
	extensions []schema.Schema

	mu         sync.RWMutex
	cache      map[string]fp.Expression
	cacheBytes int // the cached shapes' text
}

// maxCachedShapes and maxCacheBytes bound the cache; beyond either it
// starts over. The byte bound keeps 4096 long shapes (a 1,000-term filter
// is 50 KB) from holding hundreds of megabytes.
const (
	maxCachedShapes = 4096
	maxCacheBytes   = 8 << 20
)

func newFilterCompiler(attrs *attrTable, s schema.Schema, exts ...schema.Schema) *filterCompiler {
	withCommon := s
	withCommon.Attributes = append(append([]schema.CoreAttribute{}, s.Attributes...), schema.CommonAttributes()...)
	return &filterCompiler{attrs: attrs, schema: withCommon, extensions: exts, cache: map[string]fp.Expression{}}
}

// compile parses, validates and translates raw. Errors are client errors
// (400 invalidFilter) with a message saying what is wrong.
func (c *filterCompiler) compile(raw string) (storage.Expr, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	// The parser and the walks below recurse; the text is measured first.
	if err := storage.CheckFilterText(raw); err != nil {
		return nil, err
	}
	shape, literals, ok := lexShape(raw)
	if ok {
		c.mu.RLock()
		ast, hit := c.cache[shape]
		c.mu.RUnlock()
		if hit {
			return c.translate(ast, literals)
		}
	}
	if ok && literalsParse(literals) {
		// The library's parser spends most of its time on the characters
		// of string literals (90 ms for 1,000 id eq "<uuid>" terms), so a
		// new shape is parsed with every literal empty; the literals, which
		// the grammar would take as they are, are bound by the translator.
		blank := strings.ReplaceAll(shape, `"\x00"`, `""`)
		ast, err := c.parse(blank)
		if err != nil {
			return nil, err
		}
		if countStrings(ast) == len(literals) {
			c.remember(shape, ast)
			return c.translate(ast, literals)
		}
	}
	ast, err := c.parse(raw)
	if err != nil {
		return nil, err
	}
	if ok && sameLiterals(ast, literals) {
		c.remember(shape, ast)
	}
	return c.translate(ast, nil)
}

// parse has the library parse and validate text.
func (c *filterCompiler) parse(text string) (fp.Expression, error) {
	v, err := filter.NewValidator(text, c.schema, c.extensions...)
	if err != nil {
		return nil, fmt.Errorf("the filter is not valid SCIM filter syntax")
	}
	ast := v.GetFilter()
	if err := c.validate(ast); err != nil {
		return nil, fmt.Errorf("the filter does not fit the schema: %v", err)
	}
	return ast, nil
}

// remember caches the parsed tree of a shape.
func (c *filterCompiler) remember(shape string, ast fp.Expression) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCachedShapes || c.cacheBytes+len(shape) > maxCacheBytes {
		c.cache, c.cacheBytes = map[string]fp.Expression{}, 0
	}
	if _, dup := c.cache[shape]; !dup {
		c.cache[shape] = ast
		c.cacheBytes += len(shape)
	}
}

// literalsParse reports whether the library's grammar takes each literal
// as the content of a string: JSON's rules, except that a \u escape takes
// upper-case hex digits only. Bytes of 0x80 and above pass, as invalid
// UTF-8 does in the library.
func literalsParse(literals []string) bool {
	for _, s := range literals {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\':
				i++
				if i >= len(s) {
					return false
				}
				switch s[i] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				case 'u':
					if i+4 >= len(s) {
						return false
					}
					for _, h := range []byte(s[i+1 : i+5]) {
						if !(h >= '0' && h <= '9' || h >= 'A' && h <= 'F') {
							return false
						}
					}
					i += 4
				default:
					return false
				}
			case c < 0x20 || c == '"':
				return false
			}
		}
	}
	return true
}

// countStrings counts the string values of a tree.
func countStrings(e fp.Expression) int {
	n := 0
	walkStrings(e, func(string) { n++ })
	return n
}

// validate has the library check each comparison and value path on its
// own: the library checks a whole filter against one schema at a time, so
// "enterprise:department eq .. and title eq .." would fit neither the core
// nor the extension schema. The translator's allowlist still rejects what
// the library lets through (unknown names inside [...]).
func (c *filterCompiler) validate(e fp.Expression) error {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		if err := c.validate(e.Left); err != nil {
			return err
		}
		return c.validate(e.Right)
	case *fp.NotExpression:
		return c.validate(e.Expression)
	}
	return filter.NewFilterValidator(e, c.schema, c.extensions...).Validate()
}

// lexShape blanks out the string literals of a filter, returning the
// shape and the raw literals in order. ok is false for text it cannot
// split with certainty (an unterminated string).
func lexShape(raw string) (shape string, literals []string, ok bool) {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '"' {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for ; j < len(raw) && raw[j] != '"'; j++ {
			if raw[j] == '\\' {
				j++
			}
		}
		if j >= len(raw) {
			return "", nil, false
		}
		literals = append(literals, raw[i+1:j])
		b.WriteString(`"\x00"`)
		i = j
	}
	return b.String(), literals, true
}

// sameLiterals reports whether the tree's string values are exactly the
// lexer's literals, in order; only then is the shape safe to reuse.
func sameLiterals(e fp.Expression, literals []string) bool {
	var got []string
	walkStrings(e, func(s string) { got = append(got, s) })
	if len(got) != len(literals) {
		return false
	}
	for i := range got {
		if got[i] != literals[i] {
			return false
		}
	}
	return true
}

func walkStrings(e fp.Expression, fn func(string)) {
	switch e := e.(type) {
	case *fp.AttributeExpression:
		if s, ok := e.CompareValue.(string); ok {
			fn(s)
		}
	case *fp.LogicalExpression:
		walkStrings(e.Left, fn)
		walkStrings(e.Right, fn)
	case *fp.NotExpression:
		walkStrings(e.Expression, fn)
	case *fp.ValuePath:
		walkStrings(e.ValueFilter, fn)
	}
}

// translator walks a parsed filter; when literals is set, string values
// come from it in order instead of from the tree.
type translator struct {
	attrs    *attrTable
	literals []string
	next     int
}

func (c *filterCompiler) translate(ast fp.Expression, literals []string) (storage.Expr, error) {
	t := translator{attrs: c.attrs, literals: literals}
	return t.expr(ast, nil)
}

// expr translates e; inside a value path, parent is the multi-valued
// attribute whose sub-attributes the comparisons name.
func (t *translator) expr(e fp.Expression, parent *resolved) (storage.Expr, error) {
	switch e := e.(type) {
	case *fp.LogicalExpression:
		l, err := t.expr(e.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := t.expr(e.Right, parent)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(string(e.Operator), "or") {
			return storage.Or{Left: l, Right: r}, nil
		}
		return storage.And{Left: l, Right: r}, nil
	case *fp.NotExpression:
		x, err := t.expr(e.Expression, parent)
		if err != nil {
			return nil, err
		}
		return storage.Not{X: x}, nil
	case *fp.ValuePath:
		if parent != nil {
			return nil, fmt.Errorf("value paths cannot be nested")
		}
		r, err := t.attrs.resolve(e.AttributePath)
		if err != nil {
			return nil, err
		}
		if !r.multi || r.sub != "" {
			return nil, fmt.Errorf("%q is not a multi-valued attribute", r.display)
		}
		inner, err := t.expr(e.ValueFilter, &r)
		if err != nil {
			return nil, err
		}
		return storage.ValuePath{Attr: r.attr, Filter: inner}, nil
	case *fp.AttributeExpression:
		return t.compare(e, parent)
	}
	return nil, fmt.Errorf("unsupported filter expression")
}

func (t *translator) compare(e *fp.AttributeExpression, parent *resolved) (storage.Expr, error) {
	value, err := t.value(e.CompareValue)
	if err != nil {
		return nil, err
	}
	op := storage.Op(strings.ToLower(string(e.Operator)))
	if parent != nil {
		// Inside emails[...], names are sub-attributes of emails.
		if e.AttributePath.URI() != "" || e.AttributePath.SubAttributeName() != "" {
			return nil, fmt.Errorf("%q is not a sub-attribute of %q", e.AttributePath.String(), parent.display)
		}
		info := t.attrs.subInfo(parent.attr)
		sub, ok := info[strings.ToLower(e.AttributePath.AttributeName)]
		if !ok {
			return nil, fmt.Errorf("unknown or unsupported sub-attribute %q of %q", e.AttributePath.AttributeName, parent.display)
		}
		return storage.Compare{Attr: sub, Op: op, Value: value}, nil
	}
	r, err := t.attrs.resolve(e.AttributePath)
	if err != nil {
		return nil, err
	}
	if r.isTime {
		if s, ok := value.(string); ok {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("%q needs an RFC 3339 date-time such as 2026-01-02T15:04:05Z, not %q", r.display, s)
			}
			value = tm
		}
	}
	if r.multi {
		sub := r.sub
		if sub == "" {
			sub = storage.SubValue
		}
		return storage.ValuePath{Attr: r.attr, Filter: storage.Compare{Attr: sub, Op: op, Value: value}}, nil
	}
	return storage.Compare{Attr: r.attr, Op: op, Value: value}, nil
}

// value converts a parsed comparison value: strings have their JSON
// escapes decoded (the parser keeps them raw), numbers become float64.
func (t *translator) value(v any) (any, error) {
	switch v := v.(type) {
	case string:
		raw := v
		if t.literals != nil {
			if t.next >= len(t.literals) {
				return nil, fmt.Errorf("filter literal mismatch")
			}
			raw = t.literals[t.next]
			t.next++
		}
		if !strings.ContainsRune(raw, '\\') {
			return raw, nil
		}
		var s string
		if err := json.Unmarshal([]byte(`"`+raw+`"`), &s); err != nil {
			return nil, fmt.Errorf("bad escape in filter string %q", raw)
		}
		return s, nil
	case bool, nil:
		return v, nil
	case int:
		return float64(v), nil
	case float64:
		return v, nil
	}
	return nil, fmt.Errorf("unsupported filter value %v", v)
}

// subInfo returns the sub-attribute map of a multi-valued attribute.
func (t *attrTable) subInfo(a storage.Attr) map[string]storage.Attr {
	for _, info := range t.coreAttrs {
		if info != nil && info.multi && info.attr == a {
			return info.subs
		}
	}
	return nil
}
