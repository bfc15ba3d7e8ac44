package scim

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

// This file holds the helpers of applyPatch (patchapply.go): resolving PATCH
// paths against the schemas, evaluating value filters on multi-valued
// elements, and cleaning and comparing values.

// patchSchemas are the schemas one PATCH request is applied with.
type patchSchemas struct {
	core schema.Schema // with the common attributes (id, externalId, meta) added
	exts []schema.Schema
}

func newPatchSchemas(s schema.Schema, exts []schema.Schema) patchSchemas {
	attrs := append(schema.Attributes(nil), s.Attributes...)
	for _, a := range schema.CommonAttributes() {
		if _, ok := attrs.ContainsAttribute(a.Name()); !ok {
			attrs = append(attrs, a)
		}
	}
	s.Attributes = attrs
	return patchSchemas{core: s, exts: exts}
}

// ext returns the extension schema whose ID is uri (case-insensitively).
func (ps patchSchemas) ext(uri string) (schema.Schema, bool) {
	for _, e := range ps.exts {
		if strings.EqualFold(e.ID, uri) {
			return e, true
		}
	}
	return schema.Schema{}, false
}

// container reports whether key of a path-less value is a schema ID, whose
// object holds that schema's attributes; uri is the canonical ID.
func (ps patchSchemas) container(key string) (uri string, ok bool) {
	if strings.EqualFold(key, ps.core.ID) && ps.core.ID != "" {
		return ps.core.ID, true
	}
	e, ok := ps.ext(key)
	return e.ID, ok
}

// patchTarget is a resolved PATCH path.
type patchTarget struct {
	ext    string // "" for a core attribute, else the extension ID (its container key in the doc)
	attr   schema.CoreAttribute
	sub    *schema.CoreAttribute // the sub-attribute the path names, if any
	filter fp.Expression         // value filter, only on multi-valued attributes
	path   string                // for error details
}

func (t patchTarget) required() bool {
	return t.ext == "" && t.sub == nil && t.filter == nil && t.attr.Required()
}

// resolve maps a parsed path onto the schemas: "attr", "attr.sub",
// "urn:...:attr", "multi[filter]" and "multi[filter].sub".
func (ps patchSchemas) resolve(p fp.Path) (patchTarget, error) {
	t := patchTarget{path: p.String()}
	sch := ps.core
	if uri := p.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, ps.core.ID) {
		e, ok := ps.ext(uri)
		if !ok {
			return t, patchError(scimerr.ScimErrorInvalidPath, "unknown schema %q in path %q", uri, t.path)
		}
		sch, t.ext = e, e.ID
	}
	attr, ok := sch.Attributes.ContainsAttribute(p.AttributePath.AttributeName)
	if !ok {
		return t, patchError(scimerr.ScimErrorInvalidPath, "unknown attribute %q", t.path)
	}
	t.attr = attr
	subName := p.AttributePath.SubAttributeName()
	if p.SubAttribute != nil {
		if subName != "" {
			return t, patchError(scimerr.ScimErrorInvalidPath, "invalid path %q", t.path)
		}
		subName = *p.SubAttribute
	}
	if subName != "" {
		sub, ok := attr.SubAttributes().ContainsAttribute(subName)
		if !ok {
			return t, patchError(scimerr.ScimErrorInvalidPath, "unknown sub-attribute %q", t.path)
		}
		t.sub = &sub
	}
	if p.ValueExpression != nil {
		if !attr.MultiValued() {
			return t, patchError(scimerr.ScimErrorInvalidFilter, "%q is not multi-valued and cannot be filtered", attr.Name())
		}
		t.filter = p.ValueExpression
	}
	return t, nil
}

func patchError(base scimerr.ScimError, format string, args ...any) scimerr.ScimError {
	base.Detail = fmt.Sprintf(format, args...)
	return base
}

// patchElemAttrs are the attributes a value filter on a multi-valued
// attribute refers to: its sub-attributes, or "value" for simple elements.
func patchElemAttrs(a schema.CoreAttribute) schema.Attributes {
	return filter.MultiValuedFilterAttributes(a)
}

// patchMatches reports whether the element e of multi-valued attribute a
// passes the value filter. Simple elements are seen as {"value": e}.
func patchMatches(expr fp.Expression, e any, a schema.CoreAttribute) (bool, error) {
	m, ok := e.(map[string]any)
	if a.AttributeType() != "complex" {
		m, ok = map[string]any{"value": e}, true
	}
	if !ok {
		return false, nil
	}
	return patchEval(expr, m, patchElemAttrs(a))
}

// patchEval evaluates a value filter on one element. Unlike the library's
// filter.Validator.PassesFilter it never panics on values of an unexpected
// type, accepts any numeric type, treats "ne" on an absent attribute as
// true and "pr" on null/""/[]/{} as false.
func patchEval(expr fp.Expression, m map[string]any, attrs schema.Attributes) (bool, error) {
	switch e := expr.(type) {
	case *fp.AttributeExpression:
		a, ok := attrs.ContainsAttribute(e.AttributePath.AttributeName)
		if !ok {
			return false, patchError(scimerr.ScimErrorInvalidFilter, "unknown attribute %q in filter", e.AttributePath.String())
		}
		_, v, present := patchGet(m, a.Name())
		if sub := e.AttributePath.SubAttributeName(); sub != "" {
			sa, ok := a.SubAttributes().ContainsAttribute(sub)
			vm, isMap := v.(map[string]any)
			if !ok || !isMap {
				return e.Operator == fp.NE, nil
			}
			_, v, present = patchGet(vm, sa.Name())
			a = sa
		}
		return patchCompare(e.Operator, v, present, e.CompareValue, a)
	case *fp.LogicalExpression:
		l, err := patchEval(e.Left, m, attrs)
		if err != nil {
			return false, err
		}
		if e.Operator == fp.AND && !l || e.Operator == fp.OR && l {
			return l, nil
		}
		return patchEval(e.Right, m, attrs)
	case *fp.NotExpression:
		ok, err := patchEval(e.Expression, m, attrs)
		return !ok, err
	default:
		return false, patchError(scimerr.ScimErrorInvalidFilter, "unsupported value filter %v", expr)
	}
}

func patchCompare(op fp.CompareOperator, v any, present bool, ref any, a schema.CoreAttribute) (bool, error) {
	present = present && v != nil
	if op == fp.PR {
		return present && !patchEmpty(v), nil
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if ok, err := patchCompare(op, x, true, ref, a); ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	}
	if ref == nil || !present {
		switch op {
		case fp.EQ:
			return ref == nil && !present, nil
		case fp.NE:
			return ref != nil || present, nil
		}
		return false, nil
	}
	var c int // v compared to ref
	switch r := ref.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return op == fp.NE, nil
		}
		if a.AttributeType() == "dateTime" {
			t1, err1 := time.Parse(time.RFC3339Nano, s)
			t2, err2 := time.Parse(time.RFC3339Nano, r)
			if err1 == nil && err2 == nil && op != fp.CO && op != fp.SW && op != fp.EW {
				return patchOrder(op, t1.Compare(t2))
			}
		}
		if !a.CaseExact() {
			s, r = strings.ToLower(s), strings.ToLower(r)
		}
		switch op {
		case fp.CO:
			return strings.Contains(s, r), nil
		case fp.SW:
			return strings.HasPrefix(s, r), nil
		case fp.EW:
			return strings.HasSuffix(s, r), nil
		}
		c = strings.Compare(s, r)
	case bool:
		b, ok := v.(bool)
		if !ok || op != fp.EQ && op != fp.NE {
			return op == fp.NE, nil
		}
		return (b == r) == (op == fp.EQ), nil
	default:
		f1, ok1 := patchFloat(v)
		f2, ok2 := patchFloat(ref)
		if !ok2 {
			return false, patchError(scimerr.ScimErrorInvalidFilter, "unsupported comparison value %v", ref)
		}
		if !ok1 {
			return op == fp.NE, nil
		}
		switch {
		case f1 < f2:
			c = -1
		case f1 > f2:
			c = 1
		}
	}
	return patchOrder(op, c)
}

func patchOrder(op fp.CompareOperator, c int) (bool, error) {
	switch op {
	case fp.EQ:
		return c == 0, nil
	case fp.NE:
		return c != 0, nil
	case fp.GT:
		return c > 0, nil
	case fp.GE:
		return c >= 0, nil
	case fp.LT:
		return c < 0, nil
	case fp.LE:
		return c <= 0, nil
	}
	return false, patchError(scimerr.ScimErrorInvalidFilter, "operator %q is not supported here", op)
}

// patchEqConditions collects the `attr eq value` conditions of a filter
// made only of such conditions joined by "and"; ok is false otherwise. They
// are the fields of the element to create when the filter matches nothing.
func patchEqConditions(expr fp.Expression, attrs schema.Attributes, into map[string]any) bool {
	switch e := expr.(type) {
	case nil:
		return true
	case *fp.AttributeExpression:
		a, ok := attrs.ContainsAttribute(e.AttributePath.AttributeName)
		if !ok || e.Operator != fp.EQ || e.CompareValue == nil || e.AttributePath.SubAttribute != nil {
			return false
		}
		v := e.CompareValue
		if f, ok := patchFloat(v); ok {
			v = json.Number(strconv.FormatFloat(f, 'f', -1, 64)) // typed by the attribute below
		}
		clean, err := patchClean(a, v, a.Name())
		if err != nil {
			return false
		}
		if old, dup := into[a.Name()]; dup && !reflect.DeepEqual(old, clean) {
			return false
		}
		into[a.Name()] = clean
		return true
	case *fp.LogicalExpression:
		return e.Operator == fp.AND && patchEqConditions(e.Left, attrs, into) && patchEqConditions(e.Right, attrs, into)
	}
	return false
}

// patchClean checks a singular value against attribute a with the library
// and returns it sanitised: canonical sub-attribute names, unknown and
// readOnly sub-attributes dropped, integers as int64, decimals as float64.
func patchClean(a schema.CoreAttribute, v any, label string) (any, error) {
	out, scimErr := a.ValidateSingular(v)
	if scimErr != nil {
		return nil, patchError(scimerr.ScimErrorInvalidValue, "invalid value for %q: expected %s", label, patchShape(a))
	}
	return patchNormalize(out), nil
}

// patchCleanList cleans the values of a multi-valued attribute; a single
// value is taken as a one-element list.
func patchCleanList(a schema.CoreAttribute, v any, label string) ([]any, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, x := range list {
		c, err := patchClean(a, x, label)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// patchCleanSub cleans the value of a sub-attribute, which may itself be
// multi-valued.
func patchCleanSub(sub schema.CoreAttribute, v any, label string) (any, error) {
	if sub.MultiValued() {
		return patchCleanList(sub, v, label)
	}
	return patchClean(sub, v, label)
}

func patchShape(a schema.CoreAttribute) string {
	if a.AttributeType() == "complex" {
		return "an object"
	}
	return "a " + a.AttributeType()
}

// patchNormalize turns json.Number into int64 (when integral) or float64
// and any other Go integer into int64, recursively, modifying maps and
// slices in place.
func patchNormalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return string(x)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case map[string]any:
		for k, e := range x {
			x[k] = patchNormalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = patchNormalize(e)
		}
	}
	return v
}

func patchFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func patchEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// patchEqual compares two values; strings case-insensitively unless
// caseExact, numbers by value whatever their Go type.
func patchEqual(a, b any, caseExact bool) bool {
	if sa, ok := a.(string); ok {
		sb, ok := b.(string)
		return ok && (sa == sb || !caseExact && strings.EqualFold(sa, sb))
	}
	if fa, ok := patchFloat(a); ok {
		fb, ok := patchFloat(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

// patchGet looks name up in m: the exact key first, then case-insensitively.
func patchGet(m map[string]any, name string) (string, any, bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return k, v, true
		}
	}
	return "", nil, false
}

// patchCanon looks name up in m and moves a value found under another
// spelling of the name to the canonical key.
func patchCanon(m map[string]any, name string) (any, bool) {
	k, v, ok := patchGet(m, name)
	if ok && k != name {
		delete(m, k)
		m[name] = v
	}
	return v, ok
}

// patchClone deep-copies maps and slices.
func patchClone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(x))
		for k, e := range x {
			c[k] = patchClone(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = patchClone(e)
		}
		return c
	}
	return v
}

func patchIsPrimary(e any) bool {
	m, ok := e.(map[string]any)
	return ok && m["primary"] == true
}

func patchList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// parsePatchPath parses a PATCH path. Paths without a value filter
// ("title", "name.givenName", "urn:...:User:manager") are split here: the
// filter parser allocates per character, and a PATCH of many operations
// parsed every path with it. Anything else goes to the filter parser.
func parsePatchPath(path string) (fp.Path, error) {
	if p, ok := parseSimplePath(path); ok {
		return p, nil
	}
	return fp.ParsePath([]byte(path))
}

// parseSimplePath accepts exactly the filter parser's
// [URI] attrName ["." attrName] with URI = 1*(1*(ALPHA / DIGIT / "-" / ".") ":").
func parseSimplePath(path string) (fp.Path, bool) {
	var p fp.Path
	rest := path
	if i := strings.LastIndexByte(path, ':'); i >= 0 {
		uri := path[:i]
		for seg := range strings.SplitSeq(uri, ":") {
			if seg == "" || strings.IndexFunc(seg, func(r rune) bool { return !isURIChar(r) }) >= 0 {
				return p, false
			}
		}
		p.AttributePath.URIPrefix = &uri
		rest = path[i+1:]
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !isAttrName(name) || hasSub && !isAttrName(sub) {
		return p, false
	}
	p.AttributePath.AttributeName = name
	if hasSub {
		p.AttributePath.SubAttribute = &sub
	}
	return p, true
}

func isURIChar(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.'
}

// isAttrName matches the filter parser's attrName: ["$"] ALPHA *(ALPHA / DIGIT / "-" / "_").
func isAttrName(s string) bool {
	s = strings.TrimPrefix(s, "$")
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
