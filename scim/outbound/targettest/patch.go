package targettest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

type patchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

// patch applies an RFC 7644 §3.5.2 PatchOp to a copy and stores it only
// when every operation succeeded ("the PATCH operation is atomic").
func (t *Target) patch(kind, id string, body []byte) answer {
	old := t.kinds[kind].byID[id]
	if old == nil {
		return notFound(kind, id)
	}
	var req patchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fail(errorf(http.StatusBadRequest, "invalidSyntax", "the body is not a PatchOp request: %v", err))
	}
	if !slices.Contains(req.Schemas, schemaPatchOp) {
		return fail(errorf(http.StatusBadRequest, "invalidSyntax", "schemas must contain %s", schemaPatchOp))
	}
	if len(req.Operations) == 0 {
		return fail(errorf(http.StatusBadRequest, "invalidValue", "Operations is empty"))
	}
	if t.opts.AWS {
		if e := awsCheckPatch(kind, req.Operations); e != nil {
			return fail(e)
		}
	}
	doc := clone(old)
	for _, op := range req.Operations {
		if e := applyOp(doc, op); e != nil {
			return fail(e)
		}
	}
	doc["id"] = id
	if e := t.check(kind, doc, id); e != nil {
		return fail(e)
	}
	t.stamp(doc, kind, false)
	t.kinds[kind].byID[id] = doc
	if t.opts.AWS {
		// AWS IAM Identity Center answers PatchUser and PatchGroup with
		// 204 and no body (its PatchGroup example response).
		return answer{status: http.StatusNoContent}
	}
	return answer{status: http.StatusOK, body: t.render(kind, doc)}
}

// path is a parsed PATCH path: attr, optionally [sub eq "v"], optionally
// .sub; a schema URN prefix selects an extension's object.
type path struct {
	urn       string
	attr      string
	filterSub string
	filterVal string
	filtered  bool
	sub       string
}

func parsePath(p string) (path, *scimError) {
	var out path
	if strings.HasPrefix(strings.ToLower(p), "urn:") {
		i := strings.LastIndex(p, ":")
		out.urn, p = p[:i], p[i+1:]
	}
	if open := strings.Index(p, "["); open >= 0 {
		end := strings.Index(p, "]")
		if end < open {
			return out, errorf(http.StatusBadRequest, "invalidPath", "path %q has an unclosed [", p)
		}
		inner := strings.TrimSpace(p[open+1 : end])
		sub, rest, ok := strings.Cut(inner, " ")
		op, val, ok2 := strings.Cut(strings.TrimSpace(rest), " ")
		var v string
		if !ok || !ok2 || !strings.EqualFold(op, "eq") || json.Unmarshal([]byte(strings.TrimSpace(val)), &v) != nil {
			return out, errorf(http.StatusBadRequest, "invalidFilter", "value filter %q is not of the form sub eq \"value\"", inner)
		}
		out.attr, out.filterSub, out.filterVal, out.filtered = p[:open], sub, v, true
		out.sub = strings.TrimPrefix(p[end+1:], ".")
		return out, nil
	}
	out.attr, out.sub, _ = strings.Cut(p, ".")
	return out, nil
}

// key finds an attribute name case-insensitively (RFC 7644 §3.10).
func key(m map[string]any, name string) string {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func applyOp(doc Resource, op patchOp) *scimError {
	var value any
	if len(op.Value) > 0 {
		if err := json.Unmarshal(op.Value, &value); err != nil {
			return errorf(http.StatusBadRequest, "invalidValue", "value is not JSON")
		}
	}
	kind := strings.ToLower(op.Op)
	if kind != "add" && kind != "replace" && kind != "remove" {
		return errorf(http.StatusBadRequest, "invalidSyntax", "op %q is not add, remove or replace", op.Op)
	}
	if op.Path == "" {
		obj, ok := value.(map[string]any)
		if kind == "remove" {
			return errorf(http.StatusBadRequest, "noTarget", "remove needs a path")
		}
		if !ok {
			return errorf(http.StatusBadRequest, "invalidValue", "%s without a path needs an object value", op.Op)
		}
		for _, k := range sortedKeys(obj) {
			if e := applyOp(doc, patchOp{Op: op.Op, Path: k, Value: mustJSON(obj[k])}); e != nil {
				return e
			}
		}
		return nil
	}
	p, e := parsePath(op.Path)
	if e != nil {
		return e
	}
	container := map[string]any(doc)
	if p.urn != "" {
		ext, _ := doc[key(doc, p.urn)].(map[string]any)
		if ext == nil {
			if kind == "remove" {
				return nil
			}
			ext = map[string]any{}
			doc[p.urn] = ext
		}
		container = ext
	}
	attr := key(container, p.attr)
	if p.filtered {
		return applyFiltered(container, attr, p, kind, value)
	}
	if p.sub != "" {
		inner, _ := container[attr].(map[string]any)
		if inner == nil {
			if kind == "remove" {
				return nil
			}
			inner = map[string]any{}
			container[attr] = inner
		}
		container, attr = inner, key(inner, p.sub)
	}
	switch kind {
	case "remove":
		list, isList := container[attr].([]any)
		vals, hasVals := value.([]any)
		if isList && hasVals {
			// remove with a value list removes those members (the form
			// Entra ID sends for members).
			var drop []string
			for _, v := range vals {
				if m, ok := v.(map[string]any); ok {
					if s, ok := m["value"].(string); ok {
						drop = append(drop, s)
					}
				}
			}
			container[attr] = list
			removeMembers(Resource(container), func(v string) bool { return slices.Contains(drop, v) })
			return nil
		}
		delete(container, attr)
	case "add":
		if add, ok := value.([]any); ok {
			old, _ := container[attr].([]any)
			container[attr] = append(old, add...)
			return nil
		}
		container[attr] = value
	case "replace":
		container[attr] = value
	}
	return nil
}

// applyFiltered handles attr[sub eq "v"] and attr[sub eq "v"].sub2.
func applyFiltered(container map[string]any, attr string, p path, kind string, value any) *scimError {
	list, _ := container[attr].([]any)
	matches := func(e any) bool {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		s, _ := m[key(m, p.filterSub)].(string)
		return strings.EqualFold(s, p.filterVal)
	}
	switch {
	case kind == "remove" && p.sub == "":
		out := list[:0:0]
		for _, e := range list {
			if !matches(e) {
				out = append(out, e)
			}
		}
		container[attr] = out
	case p.sub != "":
		found := false
		for _, e := range list {
			if matches(e) {
				found = true
				m := e.(map[string]any)
				if kind == "remove" {
					delete(m, key(m, p.sub))
				} else {
					m[key(m, p.sub)] = value
				}
			}
		}
		if !found && kind != "remove" {
			// RFC 7644 §3.5.2.3: a replace whose filter matches nothing
			// is a 400 noTarget.
			return errorf(http.StatusBadRequest, "noTarget", "no %s matches [%s eq %q]", attr, p.filterSub, p.filterVal)
		}
	default:
		obj, ok := value.(map[string]any)
		if !ok {
			return errorf(http.StatusBadRequest, "invalidValue", "%s of %s[...] needs an object value", kind, attr)
		}
		for i, e := range list {
			if matches(e) {
				list[i] = obj
			}
		}
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
