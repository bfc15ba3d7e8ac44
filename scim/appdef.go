package scim

import (
	"fmt"
	"strings"

	"github.com/elimity-com/scim/schema"

	"github.com/scimgate/scimgate/storage"
)

// This file validates the parts of an application's definition that speak
// SCIM: its scope filter and its attribute allow-list. The config API
// calls the exported functions; the view (appview*.go) uses the same
// parsed forms, so what an admin may write and what a view serves agree.
//
// The allow-list covers user attributes only. A group in a view always
// shows displayName, externalId and members (filtered by the view): they
// are what makes a group useful at all, and hiding a group's name would
// leave nothing to show.

// CompileUserFilter parses and compiles a SCIM filter over users, as the
// Users list does, for an application's scope.filter. The error says what
// is wrong with the filter.
func CompileUserFilter(filter string) (storage.Expr, error) {
	if strings.TrimSpace(filter) == "" {
		return nil, fmt.Errorf("the filter is empty")
	}
	return newUserFilterCompiler().compile(filter)
}

func newUserFilterCompiler() *filterCompiler {
	return newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
}

// AppAttributes validates an application's attribute allow-list: each path
// a user attribute of the core or enterprise schema ("userName",
// "name.givenName", "emails",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
// or the whole extension by its URN), case-insensitively. It returns the
// paths in canonical spelling, without duplicates, in the order given. id,
// schemas and meta are always shown; naming them is allowed and kept.
func AppAttributes(paths []string) ([]string, error) {
	l, err := parseAllowList(paths)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, nil
	}
	return l.paths, nil
}

// allowList is a resolved attribute allow-list. A nil *allowList allows
// everything.
type allowList struct {
	core map[string]*allowedAttr // lower-cased core attribute name
	ext  map[string]*allowedAttr // lower-cased enterprise attribute name
	// exactCore and exactExt are the same entries by canonical name, the
	// spelling of stored documents, for rendering without lower-casing.
	exactCore, exactExt map[string]*allowedAttr
	// paths are the canonical paths, as AppAttributes returns them.
	paths []string
}

// allowedAttr is one allowed top-level attribute: whole, or only the named
// sub-attributes.
type allowedAttr struct {
	name  string // canonical
	whole bool
	subs  map[string]string // lower-cased -> canonical sub-attribute name
	// exactSubs holds the canonical names, which stored documents use, so
	// rendering finds them without lower-casing.
	exactSubs map[string]bool
}

// allowsSub reports whether the sub-attribute named key is shown.
func (a *allowedAttr) allowsSub(key []byte) bool {
	if a.whole {
		return true
	}
	if shown, known := a.exactSubs[string(key)]; known {
		return shown
	}
	_, ok := a.subs[strings.ToLower(string(key))]
	return ok
}

// impliedAttrs are always shown, whatever the list says.
var impliedAttrs = []string{"id", "schemas", "meta"}

// parseAllowList resolves paths against the user schemas; nil for an
// empty list (everything allowed).
func parseAllowList(paths []string) (*allowList, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	core := schema.CoreUserSchema()
	core.Attributes = append(append(schema.Attributes{}, core.Attributes...), schema.CommonAttributes()...)
	ext := schema.ExtensionEnterpriseUser()
	l := &allowList{core: map[string]*allowedAttr{}, ext: map[string]*allowedAttr{}}
	seen := map[string]bool{}
	for _, raw := range paths {
		path := strings.TrimSpace(raw)
		if path == "" {
			return nil, fmt.Errorf("an attribute path is empty")
		}
		canonical, err := l.add(path, core, ext)
		if err != nil {
			return nil, err
		}
		if key := strings.ToLower(canonical); !seen[key] {
			seen[key] = true
			l.paths = append(l.paths, canonical)
		}
	}
	for _, name := range impliedAttrs {
		l.core[name] = &allowedAttr{name: name, whole: true}
	}
	l.exactCore, l.exactExt = byCanonicalName(l.core, core.Attributes), byCanonicalName(l.ext, ext.Attributes)
	return l, nil
}

// add resolves one path into l and returns its canonical spelling.
func (l *allowList) add(path string, core, ext schema.Schema) (string, error) {
	rest, table, sc, prefix := path, l.core, core, ""
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		switch {
		case strings.EqualFold(path, ext.ID):
			for _, a := range ext.Attributes {
				l.ext[strings.ToLower(a.Name())] = &allowedAttr{name: a.Name(), whole: true}
			}
			return ext.ID, nil
		case hasFoldPrefix(path, ext.ID+":"):
			rest, table, sc, prefix = path[len(ext.ID)+1:], l.ext, ext, ext.ID+":"
		case hasFoldPrefix(path, core.ID+":"):
			rest = path[len(core.ID)+1:]
		default:
			return "", fmt.Errorf("attribute %q: unknown schema (allowed: %s and %s)", path, core.ID, ext.ID)
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	attr, ok := findAttr(sc.Attributes, name)
	if !ok {
		return "", fmt.Errorf("unknown user attribute %q", path)
	}
	if strings.EqualFold(attr.Name(), "password") {
		return "", fmt.Errorf("attribute %q is never returned, so it cannot be allowed", path)
	}
	key := strings.ToLower(attr.Name())
	entry := table[key]
	if entry == nil {
		entry = &allowedAttr{name: attr.Name(), subs: map[string]string{}}
		table[key] = entry
	}
	if !hasSub {
		entry.whole = true
		return prefix + attr.Name(), nil
	}
	subAttr, ok := findAttr(attr.SubAttributes(), sub)
	if !ok || strings.Contains(sub, ".") {
		return "", fmt.Errorf("unknown user attribute %q: %q has no sub-attribute %q", path, attr.Name(), sub)
	}
	entry.subs[strings.ToLower(subAttr.Name())] = subAttr.Name()
	return prefix + attr.Name() + "." + subAttr.Name(), nil
}

// byCanonicalName indexes entries by the canonical names of attrs, hidden
// ones included (as nil, or false for sub-attributes), so that a stored
// document's keys are all found without lower-casing.
func byCanonicalName(entries map[string]*allowedAttr, attrs schema.Attributes) map[string]*allowedAttr {
	out := make(map[string]*allowedAttr, len(attrs))
	for _, a := range attrs {
		e := entries[strings.ToLower(a.Name())]
		out[a.Name()] = e
		if e == nil {
			continue
		}
		e.exactSubs = map[string]bool{}
		for _, sub := range a.SubAttributes() {
			_, ok := e.subs[strings.ToLower(sub.Name())]
			e.exactSubs[sub.Name()] = e.whole || ok
		}
	}
	return out
}

func findAttr(attrs schema.Attributes, name string) (schema.CoreAttribute, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Name(), name) {
			return a, true
		}
	}
	return schema.CoreAttribute{}, false
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// allows reports whether the list shows attribute attr (ext "" for the
// core schema, else the enterprise URN) whole or, when sub is set, its
// sub-attribute sub.
func (l *allowList) allows(ext, attr, sub string) bool {
	if l == nil {
		return true
	}
	a := l.entry(ext, attr)
	if a == nil {
		return false
	}
	if a.whole {
		return true
	}
	_, ok := a.subs[strings.ToLower(sub)]
	return sub != "" && ok
}

// entryOf is entry for a key of a stored document, by its canonical
// spelling first.
func (l *allowList) entryOf(ext bool, key []byte) *allowedAttr {
	exact, table := l.exactCore, l.core
	if ext {
		exact, table = l.exactExt, l.ext
	}
	if e, known := exact[string(key)]; known {
		return e
	}
	return table[strings.ToLower(string(key))]
}

// entry is the allowed entry of a top-level attribute, nil when hidden.
func (l *allowList) entry(ext, attr string) *allowedAttr {
	if ext != "" {
		return l.ext[strings.ToLower(attr)]
	}
	return l.core[strings.ToLower(attr)]
}
