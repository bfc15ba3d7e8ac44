package targettest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// filterAttr is an attribute the target filters on, with its
// case-exactness from RFC 7643 (§3.1 id and externalId caseExact true;
// §4.1.1 userName false; §4.1.1/§4.2 displayName false; §4.1.2
// emails.value false; members.value is an id, exact).
type filterAttr struct {
	name      string // canonical spelling
	caseExact bool
	kinds     string // "Users", "Groups" or "Users,Groups"
}

var filterAttrs = []filterAttr{
	{"id", true, "Users,Groups"},
	{"externalId", true, "Users,Groups"},
	{"userName", false, "Users"},
	{"displayName", false, "Users,Groups"},
	{"emails.value", false, "Users"},
	{"members.value", true, "Groups"},
}

// matcher tests a resource against a parsed filter.
type matcher func(Resource) bool

// parseFilter understands `attr eq "value"`, the one form push clients
// send (RFC 7644 §3.4.2.2: attribute names and operators are
// case-insensitive, the value is a JSON string). Anything else is a 400
// invalidFilter naming what the target cannot do.
func (t *Target) parseFilter(kind, filter string) (matcher, *scimError) {
	filter = strings.TrimSpace(filter)
	if filter == "" {
		return func(Resource) bool { return true }, nil
	}
	attr, rest, ok1 := strings.Cut(filter, " ")
	op, value, ok2 := strings.Cut(strings.TrimLeft(rest, " "), " ")
	if !ok1 || !ok2 {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "filter %q is not of the form attr eq \"value\"", filter)
	}
	if !strings.EqualFold(op, "eq") {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "this target supports only the eq operator, not %q", op)
	}
	var want string
	if err := json.Unmarshal([]byte(strings.TrimSpace(value)), &want); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "filter value %s is not a single JSON string (and/or are not supported)", strings.TrimSpace(value))
	}
	var fa *filterAttr
	for i := range filterAttrs {
		if strings.EqualFold(filterAttrs[i].name, attr) && strings.Contains(filterAttrs[i].kinds, kind) {
			fa = &filterAttrs[i]
		}
	}
	if fa == nil || (t.opts.AWS && !awsFilterable(kind, fa.name)) {
		return nil, errorf(http.StatusBadRequest, "invalidFilter", "this target cannot filter %s on %q", kind, attr)
	}
	eq := func(got string) bool {
		if fa.caseExact {
			return got == want
		}
		return strings.EqualFold(got, want)
	}
	return func(r Resource) bool {
		for _, got := range values(r, fa.name) {
			if eq(got) {
				return true
			}
		}
		return false
	}, nil
}

// values returns the string values at a path such as userName or
// members.value (every element of a multi-valued attribute).
func values(r Resource, path string) []string {
	top, sub, dotted := strings.Cut(path, ".")
	if !dotted {
		if s, ok := r[top].(string); ok {
			return []string{s}
		}
		return nil
	}
	var out []string
	list, _ := r[top].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if s, ok := m[sub].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
