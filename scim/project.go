package scim

import (
	"encoding/json"
	"fmt"
	"strings"
)

// projection implements the attributes and excludedAttributes parameters
// (RFC 7644 §3.4.2.5) on a rendered resource.
type projection struct {
	include, exclude []attrRef
}

// attrRef is one attribute reference: an optional extension container, the
// attribute, and an optional sub-attribute ("" means the whole thing).
type attrRef struct{ ext, attr, sub string }

func (p projection) empty() bool { return len(p.include) == 0 && len(p.exclude) == 0 }

// excludes reports whether the top-level core attribute name is excluded
// (used to skip loading group members at all).
func (p projection) excludes(name string) bool {
	for _, r := range p.exclude {
		if r.ext == "" && r.sub == "" && strings.EqualFold(r.attr, name) {
			return true
		}
	}
	if len(p.include) > 0 {
		for _, r := range p.include {
			if r.ext == "" && strings.EqualFold(r.attr, name) {
				return false
			}
		}
		return true
	}
	return false
}

// parseProjection reads comma-separated attribute lists. core is the
// resource's core schema URN and exts its extension URNs.
func parseProjection(include, exclude []string, core string, exts []string) (projection, error) {
	var p projection
	var err error
	if p.include, err = parseRefs(include, core, exts); err != nil {
		return p, err
	}
	if p.exclude, err = parseRefs(exclude, core, exts); err != nil {
		return p, err
	}
	return p, nil
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func parseRefs(list []string, core string, exts []string) ([]attrRef, error) {
	var out []attrRef
	for _, item := range list {
		ref := attrRef{}
		rest := item
		if strings.HasPrefix(strings.ToLower(item), "urn:") {
			matched := false
			for _, e := range append([]string{core}, exts...) {
				if strings.EqualFold(item, e) && e != core {
					out = append(out, attrRef{ext: e})
					matched = true
					break
				}
				if len(item) > len(e)+1 && strings.EqualFold(item[:len(e)+1], e+":") {
					if e != core {
						ref.ext = e
					}
					rest = item[len(e)+1:]
					matched = true
					break
				}
			}
			if !matched {
				return nil, fmt.Errorf("unknown schema in attribute %q", item)
			}
			if ref.ext != "" && rest == item {
				continue // the whole extension, already added
			}
		}
		attr, sub, _ := strings.Cut(rest, ".")
		ref.attr, ref.sub = attr, sub
		out = append(out, ref)
	}
	return out, nil
}

// apply projects a rendered resource. id and schemas are always returned.
func (p projection) apply(body []byte) ([]byte, error) {
	if p.empty() {
		return body, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	if len(p.include) > 0 {
		out := map[string]any{"id": m["id"], "schemas": m["schemas"]}
		for _, r := range p.include {
			copyRef(out, m, r)
		}
		m = out
	}
	for _, r := range p.exclude {
		deleteRef(m, r)
	}
	return json.Marshal(m)
}

// lookup finds key in m ignoring case.
func lookup(m map[string]any, key string) (string, any, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v, true
		}
	}
	return "", nil, false
}

func container(m map[string]any, ext string, create bool) map[string]any {
	if ext == "" {
		return m
	}
	k, v, ok := lookup(m, ext)
	if obj, isObj := v.(map[string]any); ok && isObj {
		_ = k
		return obj
	}
	if !create {
		return nil
	}
	obj := map[string]any{}
	m[ext] = obj
	return obj
}

func copyRef(dst, src map[string]any, r attrRef) {
	from := container(src, r.ext, false)
	if from == nil {
		return
	}
	if r.attr == "" { // whole extension
		dst[r.ext] = from
		return
	}
	k, v, ok := lookup(from, r.attr)
	if !ok {
		return
	}
	to := container(dst, r.ext, true)
	if r.sub == "" {
		to[k] = v
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if sk, sv, ok := lookup(v, r.sub); ok {
			obj, _ := to[k].(map[string]any)
			if obj == nil {
				obj = map[string]any{}
				to[k] = obj
			}
			obj[sk] = sv
		}
	case []any:
		// emails.value: keep only that sub-attribute of each element.
		var items []any
		if prev, ok := to[k].([]any); ok {
			items = prev
		}
		for i, el := range v {
			obj, _ := el.(map[string]any)
			sk, sv, ok := lookup(obj, r.sub)
			if !ok {
				continue
			}
			for len(items) <= i {
				items = append(items, map[string]any{})
			}
			items[i].(map[string]any)[sk] = sv
		}
		to[k] = items
	}
}

func deleteRef(m map[string]any, r attrRef) {
	if r.ext == "" && r.sub == "" && (strings.EqualFold(r.attr, "id") || strings.EqualFold(r.attr, "schemas")) {
		return
	}
	if r.attr == "" {
		if k, _, ok := lookup(m, r.ext); ok {
			delete(m, k)
		}
		return
	}
	from := container(m, r.ext, false)
	if from == nil {
		return
	}
	k, v, ok := lookup(from, r.attr)
	if !ok {
		return
	}
	if r.sub == "" {
		delete(from, k)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		if sk, _, ok := lookup(v, r.sub); ok {
			delete(v, sk)
		}
	case []any:
		for _, el := range v {
			if obj, ok := el.(map[string]any); ok {
				if sk, _, ok := lookup(obj, r.sub); ok {
					delete(obj, sk)
				}
			}
		}
	}
}
