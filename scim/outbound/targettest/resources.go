package targettest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// decode reads a JSON object body; a client's malformed body is a 400
// invalidSyntax (RFC 7644 §3.12).
func decode(body []byte) (Resource, *scimError) {
	var doc Resource
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "the body is not a JSON object")
	}
	return doc, nil
}

func (t *Target) post(kind string, body []byte) answer {
	doc, e := decode(body)
	if e == nil {
		e = checkSchemas(kind, doc)
	}
	if e != nil {
		return fail(e)
	}
	r, e := t.create(kind, doc)
	if e != nil {
		return fail(e)
	}
	return answer{status: http.StatusCreated, body: t.render(kind, r),
		header: http.Header{"Location": {r["meta"].(map[string]any)["location"].(string)}}}
}

// create checks and stores a new resource; the id is the target's own
// (RFC 7643 §3.1: id is assigned by the service provider).
func (t *Target) create(kind string, doc Resource) (Resource, *scimError) {
	delete(doc, "meta")
	doc["id"] = t.nextID(kind)
	if e := t.check(kind, doc, ""); e != nil {
		return nil, e
	}
	if _, ok := doc["schemas"]; !ok {
		doc["schemas"] = []string{map[string]string{"Users": schemaUser, "Groups": schemaGroup}[kind]}
	}
	t.stamp(doc, kind, true)
	t.kinds[kind].add(doc)
	return doc, nil
}

// check applies the rules a stored resource must meet; self is the id
// being replaced ("" for a create).
func (t *Target) check(kind string, doc Resource, self string) *scimError {
	switch kind {
	case "Users":
		name, _ := doc["userName"].(string)
		if strings.TrimSpace(name) == "" {
			return errorf(http.StatusBadRequest, "invalidValue", "userName is required")
		}
		// RFC 7643 §4.1.1: userName is unique and caseExact false, so
		// "Ann" and "ann" collide.
		for _, u := range t.kinds["Users"].byID {
			if u.ID() != self && strings.EqualFold(u.Str("userName"), name) {
				return errorf(http.StatusConflict, "uniqueness", "userName %q is already taken by user %s", name, u.ID())
			}
		}
		if t.opts.AWS {
			if e := awsCheckUser(doc); e != nil {
				return e
			}
		}
	case "Groups":
		name, _ := doc["displayName"].(string)
		if strings.TrimSpace(name) == "" {
			return errorf(http.StatusBadRequest, "invalidValue", "displayName is required")
		}
		if t.opts.AWS {
			if e := awsCheckGroup(t, doc, self); e != nil {
				return e
			}
		}
		if e := t.checkMembers(doc); e != nil {
			return e
		}
	}
	return nil
}

// checkMembers refuses members that are not resources of this target,
// as targets that resolve member references do (RFC 7643 §4.2: value is
// the id of a User or Group).
func (t *Target) checkMembers(doc Resource) *scimError {
	ms, ok := doc["members"]
	if !ok || ms == nil {
		return nil
	}
	list, ok := ms.([]any)
	if !ok {
		return errorf(http.StatusBadRequest, "invalidValue", "members must be an array")
	}
	seen := map[string]bool{}
	out := make([]any, 0, len(list))
	for _, m := range list {
		mm, ok := m.(map[string]any)
		v, _ := mm["value"].(string)
		if !ok || v == "" {
			return errorf(http.StatusBadRequest, "invalidValue", "each member needs a value (the member's id)")
		}
		if t.kinds["Users"].byID[v] == nil && t.kinds["Groups"].byID[v] == nil {
			return errorf(http.StatusBadRequest, "invalidValue", "member %q is not a user or group of this target", v)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, mm)
		}
	}
	doc["members"] = out
	return nil
}

// render is a resource as clients see it.
func (t *Target) render(kind string, r Resource) Resource {
	out := clone(r)
	if kind == "Groups" && t.opts.HideGroupMembers {
		out["members"] = []any{}
	}
	return out
}

func (t *Target) get(kind, id string) answer {
	r := t.kinds[kind].byID[id]
	if r == nil {
		return notFound(kind, id)
	}
	return answer{status: http.StatusOK, body: t.render(kind, r)}
}

func notFound(kind, id string) answer {
	return fail(errorf(http.StatusNotFound, "", "%s %s not found", strings.TrimSuffix(kind, "s"), id))
}

// put replaces a resource (RFC 7644 §3.5.1); id and meta.created stay.
func (t *Target) put(kind, id string, body []byte) answer {
	old := t.kinds[kind].byID[id]
	if old == nil {
		return notFound(kind, id)
	}
	doc, e := decode(body)
	if e == nil {
		e = checkSchemas(kind, doc)
	}
	if e != nil {
		return fail(e)
	}
	doc["id"] = id
	doc["meta"] = old["meta"]
	if e := t.check(kind, doc, id); e != nil {
		return fail(e)
	}
	t.stamp(doc, kind, false)
	t.kinds[kind].byID[id] = doc
	return answer{status: http.StatusOK, body: t.render(kind, doc)}
}

func (t *Target) delete(kind, id string) answer {
	if t.kinds[kind].byID[id] == nil {
		return notFound(kind, id)
	}
	t.kinds[kind].remove(id)
	// A deleted resource leaves the groups that held it.
	for _, g := range t.kinds["Groups"].byID {
		removeMembers(g, func(v string) bool { return v == id })
	}
	return answer{status: http.StatusNoContent}
}

func removeMembers(g Resource, match func(string) bool) int {
	list, _ := g["members"].([]any)
	out := list[:0:0]
	n := 0
	for _, m := range list {
		mm, _ := m.(map[string]any)
		if v, _ := mm["value"].(string); match(v) {
			n++
			continue
		}
		out = append(out, m)
	}
	if list != nil {
		g["members"] = out
	}
	return n
}

// checkSchemas requires the resource's core schema in a POST or PUT body
// (RFC 7643 §3: schemas is REQUIRED; scimgate's own server refuses a body
// without it, 400 invalidSyntax).
func checkSchemas(kind string, doc Resource) *scimError {
	want := map[string]string{"Users": schemaUser, "Groups": schemaGroup}[kind]
	list, _ := doc["schemas"].([]any)
	for _, s := range list {
		if s == want {
			return nil
		}
	}
	return errorf(http.StatusBadRequest, "invalidSyntax", "schemas must contain %s", want)
}
