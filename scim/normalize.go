package scim

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"

	escim "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
)

// Client quirks are absorbed here, per request, before the library
// validates the request: each rewrite turns a shape a real client sends
// into the RFC form the library accepts, and is logged at debug level with
// the quirk's name. Rewrites are driven by the resource's schema (a string
// becomes a boolean only where the schema says boolean), and nothing here
// loosens validation for other requests: a value that is still wrong after
// the rewrite is rejected by the library as before.

// quirk is one rewrite applied to a request.
type quirk string

const (
	// RFC 7643 §2.5: null is the same as unassigned, so replacing a path
	// with null removes it (any client).
	quirkNullReplace quirk = "replace-with-null-is-remove"
	// Entra clears an attribute with a replace that has no value at all.
	quirkReplaceNoValue quirk = "replace-without-value-is-remove"
	// Adding null adds nothing (any client).
	quirkNullAdd quirk = "add-with-null-is-noop"
	// Null members of a path-less value are unassigned attributes; the
	// library rejects null there, so they become remove operations.
	quirkNullInValue quirk = "null-in-pathless-value-is-remove"
	// Entra's default PATCH dialect sends booleans as "True"/"False".
	quirkBooleanString quirk = "boolean-as-string"
	// Entra sends the enterprise manager as a bare id string, not
	// {"value": id}; an empty string clears it.
	quirkBareReference quirk = "bare-id-for-complex-value"
	// Entra filters users by emails[type eq "work"].value eq "...", a
	// sub-attribute after a value path, which RFC 7644 filters do not have.
	quirkFilterSubAttr quirk = "filter-sub-attribute-after-value-path"
)

// normalizeRequest reads the body of a POST, PUT or PATCH (once: the
// handlers get it from here) and absorbs known client quirks: in the
// filter of a GET list (rewritten in r) or a POST /.search, or in the JSON
// body of a write (the returned body is the rewritten one). path is the
// request path below Prefix. Every non-empty body is first checked to be
// strict JSON (body.go) and a PATCH against the operation and path limits;
// a body that fails is answered with the returned error. Bodies that are
// not JSON objects are left for validation to reject.
func (s *Server) normalizeRequest(r *http.Request, path string) ([]byte, error) {
	q := &quirkSet{}
	var out []byte
	switch r.Method {
	case http.MethodGet:
		normalizeListQuery(r, q)
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if r.Body == nil {
			return nil, nil
		}
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			body = nil
		}
		out = body
		if len(bytes.TrimSpace(body)) > 0 {
			if err := checkBody(body); err != nil {
				return nil, err
			}
		}
		rt, ok := s.resourceTypeOf(path)
		if !ok {
			return out, nil
		}
		ps := newPatchSchemas(rt.Schema, extensionSchemas(rt))
		switch {
		case r.Method == http.MethodPatch:
			if out, err = checkNormalizePatchBody(body, ps, q, s.opts.MaxPatchOperations); err != nil {
				return nil, err
			}
		case strings.HasSuffix(path, "/.search"):
			out = normalizeSearchBody(body, q)
		case mayHoldResourceQuirk(body):
			out = normalizeResourceBody(body, ps, q)
		}
	}
	if len(q.names) > 0 {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "absorbed client quirks",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("quirks", q.names))
	}
	return out, nil
}

// resourceTypeOf maps a path below Prefix to its resource type.
func (s *Server) resourceTypeOf(path string) (escim.ResourceType, bool) {
	switch {
	case path == "/Users" || strings.HasPrefix(path, "/Users/"):
		return s.userType, true
	case path == "/Groups" || strings.HasPrefix(path, "/Groups/"):
		return s.groupType, true
	}
	return escim.ResourceType{}, false
}

func extensionSchemas(rt escim.ResourceType) []schema.Schema {
	out := make([]schema.Schema, 0, len(rt.SchemaExtensions))
	for _, e := range rt.SchemaExtensions {
		out = append(out, e.Schema)
	}
	return out
}

// quirkSet records the quirks absorbed by one request, each once.
type quirkSet struct{ names []string }

func (q *quirkSet) add(k quirk) {
	for _, n := range q.names {
		if n == string(k) {
			return
		}
	}
	q.names = append(q.names, string(k))
}

// mayHoldResourceQuirk is a cheap test that lets bodies which cannot hold
// a quirk (no quoted boolean word, no manager) skip decoding.
func mayHoldResourceQuirk(body []byte) bool {
	lower := bytes.ToLower(body)
	return bytes.Contains(lower, []byte(`"true"`)) || bytes.Contains(lower, []byte(`"false"`)) ||
		bytes.Contains(lower, []byte("manager"))
}

// normalizeListQuery rewrites the filter query parameter of a list request.
func normalizeListQuery(r *http.Request, q *quirkSet) {
	if !strings.Contains(r.URL.RawQuery, "filter") {
		return
	}
	query := r.URL.Query()
	f := query.Get("filter")
	if !strings.Contains(f, "].") {
		return
	}
	if out, ok := rewriteFilterSubAttr(f); ok {
		query.Set("filter", out)
		r.URL.RawQuery = query.Encode()
		q.add(quirkFilterSubAttr)
	}
}

// normalizeSearchBody rewrites the filter of a POST /.search body.
func normalizeSearchBody(body []byte, q *quirkSet) []byte {
	if !bytes.Contains(body, []byte("].")) {
		return body
	}
	doc, ok := decodeObject(body)
	if !ok {
		return body
	}
	key, ok := uniqueKey(doc, "filter")
	f, isString := doc[key].(string)
	if !ok || !isString {
		return body
	}
	rewritten, changed := rewriteFilterSubAttr(f)
	if !changed {
		return body
	}
	doc[key] = rewritten
	out, err := encodeJSON(doc)
	if err != nil {
		return body
	}
	q.add(quirkFilterSubAttr)
	return out
}

// normalizePatchBody rewrites the operations of a PatchOp body.
func normalizePatchBody(body []byte, ps patchSchemas, q *quirkSet) []byte {
	out, _ := checkNormalizePatchBody(body, ps, q, -1)
	return out
}

// checkNormalizePatchBody checks the operations of a PatchOp body against
// the limits (body.go; maxOps < 0: no cap) and rewrites them.
func checkNormalizePatchBody(body []byte, ps patchSchemas, q *quirkSet, maxOps int) ([]byte, error) {
	doc, ok := decodeObject(body)
	if !ok {
		return body, nil
	}
	key, ok := uniqueKey(doc, "Operations")
	if !ok {
		return body, nil
	}
	rawOps, ok := doc[key].([]any)
	if !ok {
		return body, nil
	}
	if maxOps >= 0 {
		if err := checkPatchOps(rawOps, maxOps); err != nil {
			return nil, err
		}
	}
	found := &quirkSet{}
	var ops []any
	for _, raw := range rawOps {
		ops = append(ops, normalizeOp(raw, ps, found)...)
	}
	if len(found.names) == 0 {
		return body, nil
	}
	doc[key] = ops
	out, err := encodeJSON(doc)
	if err != nil {
		return body, nil
	}
	for _, n := range found.names {
		q.add(quirk(n))
	}
	return out, nil
}

// normalizeOp rewrites one operation; it may become several (null members
// of a path-less value turn into remove operations placed before it, so
// that, as in applyRoot, a parent is handled before its sub-attributes).
// Operations it does not understand are returned unchanged.
func normalizeOp(raw any, ps patchSchemas, q *quirkSet) []any {
	op, ok := raw.(map[string]any)
	if !ok {
		return []any{raw}
	}
	opKey, ok1 := uniqueKey(op, "op")
	pathKey, ok2 := uniqueKey(op, "path")
	valueKey, ok3 := uniqueKey(op, "value")
	if !ok1 || !ok2 || !ok3 || opKey == "" {
		return []any{raw}
	}
	name, _ := op[opKey].(string)
	name = strings.ToLower(name)
	if name != "add" && name != "replace" {
		return []any{raw}
	}
	path, _ := op[pathKey].(string)
	value, hasValue := op[valueKey]
	if pathKey == "" || path == "" {
		if m, isMap := value.(map[string]any); isMap && hasValue {
			return normalizePathless(op, name, opKey, valueKey, m, ps, q)
		}
		return []any{raw}
	}
	if !hasValue {
		if name == "replace" {
			q.add(quirkReplaceNoValue)
			return []any{map[string]any{"op": "remove", "path": path}}
		}
		return []any{raw}
	}
	if value != nil {
		fixed, ok := fixPathValue(path, value, ps, q)
		if !ok {
			return []any{raw}
		}
		op[valueKey] = fixed
		value = fixed
	}
	if value == nil {
		if name == "replace" {
			q.add(quirkNullReplace)
			return []any{map[string]any{"op": "remove", "path": path}}
		}
		q.add(quirkNullAdd)
		return []any{map[string]any{"op": "add", "value": map[string]any{}}}
	}
	return []any{op}
}

// normalizePathless fixes the members of a path-less value and splits
// null members off as remove operations (replace) or drops them (add).
func normalizePathless(op map[string]any, name, opKey, valueKey string, m map[string]any, ps patchSchemas, q *quirkSet) []any {
	var removes []any
	unassign := func(path string) {
		if name == "replace" {
			removes = append(removes, map[string]any{"op": "remove", "path": path})
		}
		q.add(quirkNullInValue)
	}
	for _, k := range patchSortedKeys(m) {
		if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") {
			continue
		}
		if uri, ok := ps.container(k); ok {
			inner, ok := m[k].(map[string]any)
			if !ok {
				continue
			}
			for _, ik := range patchSortedKeys(inner) {
				full := uri + ":" + ik
				if inner[ik] != nil {
					if fixed, ok := fixPathValue(full, inner[ik], ps, q); ok {
						inner[ik] = fixed
					}
				}
				if inner[ik] == nil {
					delete(inner, ik)
					unassign(full)
				}
			}
			continue
		}
		if m[k] != nil {
			if fixed, ok := fixPathValue(k, m[k], ps, q); ok {
				m[k] = fixed
			}
		}
		if m[k] == nil {
			delete(m, k)
			unassign(k)
		}
	}
	op[opKey] = name
	op[valueKey] = m
	return append(removes, op)
}

// fixPathValue fixes the value of an add or replace on path; ok is false
// when the path does not resolve (the library reports that).
func fixPathValue(path string, v any, ps patchSchemas, q *quirkSet) (any, bool) {
	p, err := parsePatchPath(path)
	if err != nil {
		return v, false
	}
	t, err := ps.resolve(p)
	if err != nil {
		return v, false
	}
	switch {
	case t.sub != nil:
		return fixValue(*t.sub, v, q), true
	case t.filter != nil:
		return fixElement(t.attr, v, q), true // the value replaces matching elements
	}
	return fixValue(t.attr, v, q), true
}

// normalizeResourceBody fixes the attributes of a POST or PUT body.
func normalizeResourceBody(body []byte, ps patchSchemas, q *quirkSet) []byte {
	doc, ok := decodeObject(body)
	if !ok {
		return body
	}
	found := &quirkSet{}
	for _, k := range slices.Sorted(maps.Keys(doc)) { // quirks in a stable order
		v := doc[k]
		if uri, ok := ps.container(k); ok && uri != ps.core.ID {
			ext, _ := ps.ext(uri)
			if inner, ok := v.(map[string]any); ok {
				fixAttributes(inner, ext.Attributes, found)
			}
			continue
		}
		if a, ok := ps.core.Attributes.ContainsAttribute(k); ok && a.Mutability() != "readOnly" {
			doc[k] = fixValue(a, v, found)
		}
	}
	if len(found.names) == 0 {
		return body
	}
	out, err := encodeJSON(doc)
	if err != nil {
		return body
	}
	for _, n := range found.names {
		q.add(quirk(n))
	}
	return out
}

func fixAttributes(m map[string]any, attrs schema.Attributes, q *quirkSet) {
	// Sorted, so the quirks are logged in the same order every time.
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if a, ok := attrs.ContainsAttribute(k); ok {
			m[k] = fixValue(a, m[k], q)
		}
	}
}

// fixValue rewrites v, a value of attribute a, where the schema says what
// the client meant: "True"/"False" for a boolean, a bare id string for a
// single-valued complex attribute with a value sub-attribute (manager).
func fixValue(a schema.CoreAttribute, v any, q *quirkSet) any {
	switch {
	case v == nil:
		return nil
	case a.AttributeType() == "complex" && a.MultiValued():
		if list, ok := v.([]any); ok {
			for i, e := range list {
				list[i] = fixElement(a, e, q)
			}
			return list
		}
		return fixElement(a, v, q)
	case a.AttributeType() == "complex":
		return fixElement(a, v, q)
	case a.AttributeType() == "boolean" && !a.MultiValued():
		if s, ok := v.(string); ok {
			switch strings.ToLower(s) {
			case "true":
				q.add(quirkBooleanString)
				return true
			case "false":
				q.add(quirkBooleanString)
				return false
			}
		}
	}
	return v
}

// fixElement fixes one value of complex attribute a.
func fixElement(a schema.CoreAttribute, v any, q *quirkSet) any {
	switch x := v.(type) {
	case map[string]any:
		fixAttributes(x, a.SubAttributes(), q)
	case string:
		if _, hasValue := a.SubAttributes().ContainsAttribute("value"); hasValue && !a.MultiValued() {
			q.add(quirkBareReference)
			if strings.TrimSpace(x) == "" {
				return nil
			}
			return map[string]any{"value": x}
		}
	}
	return v
}

// uniqueKey finds name among m's keys case-insensitively, as the library's
// decoder does; key is "" when absent. ok is false when several spellings
// are present, and then the request is left alone.
func uniqueKey(m map[string]any, name string) (key string, ok bool) {
	for k := range m {
		if strings.EqualFold(k, name) {
			if key != "" {
				return "", false
			}
			key = k
		}
	}
	return key, true
}

func decodeObject(body []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil || doc == nil || d.More() {
		return nil, false
	}
	return doc, true
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := jsonEncode(&b, v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}
