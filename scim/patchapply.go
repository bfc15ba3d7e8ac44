package scim

import (
	"reflect"
	"sort"
	"strings"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

// applyPatch applies ops in order to doc, the resource's SCIM attributes as a
// JSON object (canonical attribute names: "userName", "name" ->
// {"givenName",...}, "emails" -> []any of map[string]any, enterprise
// attributes nested under the key of the extension schema ID). s is the core
// schema and exts the extension schemas. It returns a scimerr.ScimError
// value on failure; doc may then be partially modified (the caller discards
// it).
//
// Semantics follow RFC 7644 §3.5.2 with what Okta and Entra ID rely on:
//   - Attribute names match case-insensitively; values are written under the
//     schema's canonical names. Extension attributes live in the object under
//     the extension ID, which is dropped once empty; so are empty arrays and
//     empty complex values.
//   - add appends to multi-valued attributes, skipping duplicates (an element
//     with "value" is the same as one with an equal value and, when both have
//     one, type; other elements when equal in every given field), merges into
//     complex ones and sets simple ones. An element made primary clears
//     "primary" on the others.
//   - replace sets multi-valued attributes wholesale and merges complex ones.
//   - "multi[filter]" (and "multi[filter].sub") updates every matching
//     element. When nothing matches and the filter is only `eq` conditions
//     joined by `and`, add and replace both create the element from those
//     conditions (Entra sends replace emails[type eq "work"].value to users
//     without a work email); otherwise the result is noTarget.
//   - remove needs a path; removing what is absent is a no-op. With a value
//     list on a multi-valued attribute it removes the elements whose "value"
//     (or, lacking one, every given field) matches a listed one.
//   - readOnly attributes cannot be targeted (mutability), immutable ones may
//     only be set when absent (or to their current value), required core
//     attributes cannot be removed. In a path-less value the keys "id" (Okta
//     sends it, the library strips it) and "schemas" are ignored.
//   - A null value removes the target on replace and is a no-op on add.
//   - Numbers: json.Number anywhere in doc or values becomes int64 when
//     integral, else float64; other Go integers become int64.
func applyPatch(doc map[string]any, ops []escim.PatchOperation, s schema.Schema, exts ...schema.Schema) error {
	ps := newPatchSchemas(s, exts)
	patchNormalize(doc)
	for _, op := range ops {
		var err error
		switch o := strings.ToLower(op.Op); o {
		case escim.PatchOperationAdd, escim.PatchOperationReplace:
			if op.Path == nil {
				err = ps.applyRoot(doc, o, op.Value)
			} else {
				err = ps.applyPath(doc, o, *op.Path, op.Value)
			}
		case escim.PatchOperationRemove:
			if op.Path == nil {
				return patchError(scimerr.ScimErrorNoTarget, "a remove operation needs a path")
			}
			err = ps.applyPath(doc, o, *op.Path, op.Value)
		default:
			err = patchError(scimerr.ScimErrorInvalidSyntax, "unsupported operation %q", op.Op)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// applyRoot applies a path-less add or replace: each key of the value is an
// attribute path ("active", "name.givenName", "urn:...:User:department",
// even `emails[type eq "work"].value`) or an extension ID whose object holds
// that extension's attributes. Keys are taken in sorted order, so a parent
// ("name") is applied before its sub-attributes ("name.givenName").
func (ps patchSchemas) applyRoot(doc map[string]any, op string, value any) error {
	m, ok := value.(map[string]any)
	if !ok {
		return patchError(scimerr.ScimErrorInvalidValue, "the value of a %s operation without a path must be an object", op)
	}
	for _, k := range patchSortedKeys(m) {
		if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") {
			continue
		}
		if uri, ok := ps.container(k); ok {
			inner, ok := m[k].(map[string]any)
			if !ok {
				return patchError(scimerr.ScimErrorInvalidValue, "the value of %q must be an object", k)
			}
			for _, ik := range patchSortedKeys(inner) {
				p, err := parsePatchPath(ik)
				if err != nil {
					return patchError(scimerr.ScimErrorInvalidPath, "invalid attribute path %q in %q", ik, k)
				}
				if p.AttributePath.URIPrefix == nil {
					p.AttributePath.URIPrefix = &uri
				}
				if err := ps.applyPath(doc, op, p, inner[ik]); err != nil {
					return err
				}
			}
			continue
		}
		p, err := parsePatchPath(k)
		if err != nil {
			return patchError(scimerr.ScimErrorInvalidPath, "invalid attribute path %q", k)
		}
		if err := ps.applyPath(doc, op, p, m[k]); err != nil {
			return err
		}
	}
	return nil
}

func patchSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// applyPath applies one operation to the attribute p resolves to.
func (ps patchSchemas) applyPath(doc map[string]any, op string, p fp.Path, value any) error {
	t, err := ps.resolve(p)
	if err != nil {
		return err
	}
	if t.attr.Mutability() == "readOnly" || t.sub != nil && t.sub.Mutability() == "readOnly" {
		return patchError(scimerr.ScimErrorMutability, "%q is readOnly", t.path)
	}
	if value == nil && op != escim.PatchOperationRemove {
		if op == escim.PatchOperationAdd {
			return nil
		}
		op = escim.PatchOperationRemove // replace with null: the attribute becomes unassigned
	}
	if op == escim.PatchOperationRemove && t.required() && value == nil {
		return patchError(scimerr.ScimErrorInvalidValue, "%s is required and cannot be removed", t.attr.Name())
	}

	c := doc
	if t.ext != "" {
		v, ok := patchCanon(doc, t.ext)
		if !ok {
			if op == escim.PatchOperationRemove {
				return nil
			}
			v = map[string]any{}
			doc[t.ext] = v
		}
		if c, ok = v.(map[string]any); !ok {
			return patchError(scimerr.ScimErrorInvalidValue, "the stored %q is not an object", t.ext)
		}
		defer func() {
			if len(c) == 0 {
				delete(doc, t.ext)
			}
		}()
	}

	name := t.attr.Name()
	cur, present := patchCanon(c, name)
	var before any
	if present && t.attr.Mutability() == "immutable" {
		before = patchClone(cur)
	}
	if op == escim.PatchOperationRemove {
		err = patchRemove(c, t, cur, present, value)
	} else {
		err = patchUpdate(c, t, op, cur, present, value)
	}
	if err != nil {
		return err
	}
	if after, ok := c[name]; present && t.attr.Mutability() == "immutable" && (!ok || !reflect.DeepEqual(before, after)) {
		return patchError(scimerr.ScimErrorMutability, "%q is immutable", name)
	}
	if v, ok := c[name]; ok && patchEmpty(v) && v != "" {
		delete(c, name)
	}
	return nil
}

// patchUpdate applies add or replace to attribute t.attr of container c.
func patchUpdate(c map[string]any, t patchTarget, op string, cur any, present bool, value any) error {
	name := t.attr.Name()
	switch {
	case t.attr.MultiValued() && (t.filter != nil || t.sub != nil):
		return patchUpdateElements(c, t, cur, value)
	case t.attr.MultiValued():
		vals, err := patchCleanList(t.attr, value, t.path)
		if err != nil {
			return err
		}
		if op == escim.PatchOperationReplace {
			c[name] = patchFixPrimary(vals, -1)
			return nil
		}
		list := patchList(cur)
		if len(vals) <= patchScanValues {
			for _, v := range vals {
				list = patchAppend(list, v, t.attr)
			}
			c[name] = list
			return nil
		}
		app := newPatchAppender(list, t.attr)
		for _, v := range vals {
			app.append(v)
		}
		c[name] = app.list
		return nil
	case t.sub != nil:
		v, err := patchCleanSub(*t.sub, value, t.path)
		if err != nil {
			return err
		}
		m, ok := cur.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		c[name] = m
		return patchSet(m, *t.sub, v, true)
	}
	v, err := patchClean(t.attr, value, t.path)
	if err != nil {
		return err
	}
	if m, ok := cur.(map[string]any); ok && present && t.attr.AttributeType() == "complex" {
		return patchMerge(m, v.(map[string]any), t.attr, true)
	}
	c[name] = v
	return nil
}

// patchUpdateElements applies add or replace to the elements of a
// multi-valued attribute selected by t.filter (all when nil), setting t.sub
// on them or merging the value into them.
func patchUpdateElements(c map[string]any, t patchTarget, cur any, value any) error {
	var v any
	var err error
	if t.sub != nil {
		v, err = patchCleanSub(*t.sub, value, t.path)
	} else {
		if list, ok := value.([]any); ok {
			if len(list) != 1 {
				return patchError(scimerr.ScimErrorInvalidValue, "%q selects elements and needs a single value", t.path)
			}
			value = list[0]
		}
		v, err = patchClean(t.attr, value, t.path)
	}
	if err != nil {
		return err
	}
	list := patchList(cur)
	matched, primary := false, -1
	for i, e := range list {
		if t.filter != nil {
			ok, err := patchMatches(t.filter, e, t.attr)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		matched = true
		if list[i], err = patchSetElement(e, t, v); err != nil {
			return err
		}
		if patchIsPrimary(list[i]) {
			primary = i
		}
	}
	if !matched {
		elem := map[string]any{}
		if !patchEqConditions(t.filter, patchElemAttrs(t.attr), elem) {
			return patchError(scimerr.ScimErrorNoTarget, "no value of %q matches %q", t.attr.Name(), t.path)
		}
		var e any = elem
		if t.attr.AttributeType() != "complex" {
			e = elem["value"]
		}
		if e, err = patchSetElement(e, t, v); err != nil {
			return err
		}
		list = append(list, e)
		if patchIsPrimary(e) {
			primary = len(list) - 1
		}
	}
	if primary >= 0 {
		patchFixPrimary(list, primary)
	}
	c[t.attr.Name()] = list
	return nil
}

// patchSetElement sets the sub-attribute of (or merges v into) one element.
func patchSetElement(e any, t patchTarget, v any) (any, error) {
	if t.attr.AttributeType() != "complex" {
		return v, nil // simple elements are replaced
	}
	m, ok := e.(map[string]any)
	if !ok {
		m = map[string]any{}
	}
	if t.sub != nil {
		return m, patchSet(m, *t.sub, v, true)
	}
	return m, patchMerge(m, v.(map[string]any), t.attr, true)
}

// patchSet sets sub-attribute sub of m to v; an immutable sub-attribute that
// already has another value is a mutability error when strict, else kept.
// Not strict (merging a duplicate on add), an equal value keeps its spelling.
func patchSet(m map[string]any, sub schema.CoreAttribute, v any, strict bool) error {
	old, ok := patchCanon(m, sub.Name())
	if ok && !strict && patchEqual(old, v, sub.CaseExact()) {
		return nil
	}
	if ok && old != nil && sub.Mutability() == "immutable" && !reflect.DeepEqual(old, v) {
		if strict {
			return patchError(scimerr.ScimErrorMutability, "%q is immutable", sub.Name())
		}
		return nil
	}
	if patchEmpty(v) && v != "" {
		delete(m, sub.Name())
		return nil
	}
	m[sub.Name()] = v
	return nil
}

// patchMerge sets the sub-attributes given in src on dst.
func patchMerge(dst, src map[string]any, a schema.CoreAttribute, strict bool) error {
	for _, k := range patchSortedKeys(src) {
		sub, ok := a.SubAttributes().ContainsAttribute(k)
		if !ok {
			continue
		}
		if err := patchSet(dst, sub, src[k], strict); err != nil {
			return err
		}
	}
	return nil
}

// patchScanValues is how many values one add appends by scanning the
// list for each; more are worth indexing the list first.
const patchScanValues = 4

// patchAppend adds v to a multi-valued attribute's list unless an element
// is the same (see applyPatch), in which case v's fields are merged into it.
func patchAppend(list []any, v any, a schema.CoreAttribute) []any {
	i := patchIndexSame(list, v, a)
	if i < 0 {
		list = append(list, v)
		i = len(list) - 1
	} else if nm, ok := v.(map[string]any); ok {
		if em, ok := list[i].(map[string]any); ok {
			_ = patchMerge(em, nm, a, false)
		}
	}
	if patchIsPrimary(list[i]) {
		patchFixPrimary(list, i)
	}
	return list
}

// patchAppender adds values to a multi-valued attribute's list unless an
// element is the same (see applyPatch), in which case the value's fields are
// merged into it. It indexes the elements by their value, so that one add
// of many values is linear, not quadratic; and it tracks which elements are
// primary, so that making one primary clears the others without a scan.
type patchAppender struct {
	list      []any
	attr      schema.CoreAttribute
	byValue   map[string][]int // index key (patchIndexKey) -> positions
	unindexed []int            // positions whose value has no index key
	primaries map[int]bool
}

func newPatchAppender(list []any, a schema.CoreAttribute) *patchAppender {
	p := &patchAppender{list: list, attr: a, byValue: map[string][]int{}, primaries: map[int]bool{}}
	for i, e := range list {
		p.index(i, e)
		if patchIsPrimary(e) {
			p.primaries[i] = true
		}
	}
	return p
}

func (p *patchAppender) index(i int, e any) {
	if k, ok := p.key(e); ok {
		p.byValue[k] = append(p.byValue[k], i)
	} else {
		p.unindexed = append(p.unindexed, i)
	}
}

// key is the index key of an element or value: its "value" (the element
// itself when simple) when that is an ASCII string, lower-cased unless
// case-exact. Two values patchSame calls the same have the same key, or
// at least one of them has none.
func (p *patchAppender) key(e any) (string, bool) {
	v, caseExact := e, p.attr.CaseExact()
	if m, ok := e.(map[string]any); ok {
		_, x, ok := patchGet(m, "value")
		if !ok {
			return "", false
		}
		v = x
		sub, _ := p.attr.SubAttributes().ContainsAttribute("value")
		caseExact = sub.CaseExact()
	}
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", false
		}
	}
	if !caseExact {
		s = strings.ToLower(s)
	}
	return s, true
}

// same returns the position of the first element that is the same as v.
func (p *patchAppender) same(v any) int {
	k, ok := p.key(v)
	if !ok {
		return patchIndexSame(p.list, v, p.attr) // no value to look up by
	}
	first := -1
	for _, i := range p.byValue[k] {
		if patchSame(p.list[i], v, p.attr) {
			first = i
			break
		}
	}
	for _, i := range p.unindexed {
		if (first < 0 || i < first) && patchSame(p.list[i], v, p.attr) {
			return i
		}
	}
	return first
}

func (p *patchAppender) append(v any) {
	i := p.same(v)
	if i < 0 {
		p.list = append(p.list, v)
		i = len(p.list) - 1
		p.index(i, v)
	} else if nm, ok := v.(map[string]any); ok {
		if em, ok := p.list[i].(map[string]any); ok {
			_ = patchMerge(em, nm, p.attr, false)
		}
	}
	if patchIsPrimary(p.list[i]) {
		for j := range p.primaries {
			if j != i {
				p.list[j].(map[string]any)["primary"] = false
				delete(p.primaries, j)
			}
		}
		p.primaries[i] = true
	}
}

func patchIndexSame(list []any, v any, a schema.CoreAttribute) int {
	for i, e := range list {
		if patchSame(e, v, a) {
			return i
		}
	}
	return -1
}

func patchSame(e, v any, a schema.CoreAttribute) bool {
	em, ok1 := e.(map[string]any)
	vm, ok2 := v.(map[string]any)
	if !ok1 || !ok2 {
		return patchEqual(e, v, a.CaseExact())
	}
	caseExact := func(k string) bool {
		sub, _ := a.SubAttributes().ContainsAttribute(k)
		return sub.CaseExact()
	}
	if nv, ok := vm["value"]; ok {
		_, ev, ok := patchGet(em, "value")
		if !ok || !patchEqual(ev, nv, caseExact("value")) {
			return false
		}
		nt, ok1 := vm["type"]
		_, et, ok2 := patchGet(em, "type")
		return !ok1 || !ok2 || patchEqual(et, nt, caseExact("type"))
	}
	for k, nv := range vm {
		_, ev, ok := patchGet(em, k)
		if !ok || !patchEqual(ev, nv, caseExact(k)) {
			return false
		}
	}
	return true
}

// patchFixPrimary sets "primary" to false on every element but list[keep];
// with keep < 0, on all but the last primary one.
func patchFixPrimary(list []any, keep int) []any {
	if keep < 0 {
		for i, e := range list {
			if patchIsPrimary(e) {
				keep = i
			}
		}
	}
	for i, e := range list {
		if i != keep && patchIsPrimary(e) {
			e.(map[string]any)["primary"] = false
		}
	}
	return list
}

// patchRemove applies remove to attribute t.attr of container c.
func patchRemove(c map[string]any, t patchTarget, cur any, present bool, value any) error {
	if !present {
		return nil
	}
	name := t.attr.Name()
	switch {
	case t.attr.MultiValued() && (t.filter != nil || t.sub != nil || value != nil):
		var listed []any
		if value != nil && t.filter == nil && t.sub == nil {
			var err error
			if listed, err = patchCleanList(t.attr, value, t.path); err != nil {
				return err
			}
		}
		var kept []any
		for _, e := range patchList(cur) {
			hit := t.filter == nil
			if t.filter != nil {
				ok, err := patchMatches(t.filter, e, t.attr)
				if err != nil {
					return err
				}
				hit = ok
			}
			if listed != nil {
				hit = false
				for _, l := range listed {
					hit = hit || !patchEmpty(l) && patchSame(e, l, t.attr)
				}
			}
			if hit && t.sub == nil {
				continue
			}
			if hit {
				m, ok := e.(map[string]any)
				if ok {
					if err := patchDelete(m, *t.sub); err != nil {
						return err
					}
					if len(m) == 0 {
						continue
					}
				}
			}
			kept = append(kept, e)
		}
		c[name] = kept
	case t.sub != nil:
		if m, ok := cur.(map[string]any); ok {
			return patchDelete(m, *t.sub)
		}
	default:
		delete(c, name)
	}
	return nil
}

func patchDelete(m map[string]any, sub schema.CoreAttribute) error {
	old, ok := patchCanon(m, sub.Name())
	if !ok {
		return nil
	}
	if old != nil && sub.Mutability() == "immutable" {
		return patchError(scimerr.ScimErrorMutability, "%q is immutable", sub.Name())
	}
	delete(m, sub.Name())
	return nil
}
