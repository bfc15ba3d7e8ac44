package scim

import (
	"fmt"
	"strings"

	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

const (
	userSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// attrInfo describes how one SCIM attribute maps onto storage.Attr.
type attrInfo struct {
	attr  storage.Attr            // single-valued attribute, or the multi-valued parent
	multi bool                    // a multi-valued attribute queried through ValuePath
	subs  map[string]storage.Attr // lower-cased sub-attribute name -> Attr
}

// attrTable resolves SCIM attribute paths of one resource type. Keys are
// lower-cased; the nil entries are attributes that exist in the schema
// but cannot be queried, so the error can say so.
type attrTable struct {
	core      string
	coreAttrs map[string]*attrInfo
	extension string
	ext       map[string]*attrInfo
	// times are the date-time attributes, whose string values are parsed.
	times map[storage.Attr]bool
}

// newAttrTable derives the resolver of one resource type from storage's
// attribute table. unqueryable names schema attributes that filters may
// not use.
func newAttrTable[R storage.Resource](core, extension string, attrs []storage.AttrSpec[R], unqueryable ...string) attrTable {
	t := attrTable{
		core: core, coreAttrs: map[string]*attrInfo{},
		extension: extension, ext: map[string]*attrInfo{},
		times: map[storage.Attr]bool{},
	}
	for _, name := range unqueryable {
		t.coreAttrs[strings.ToLower(name)] = nil
	}
	for _, a := range attrs {
		table := t.coreAttrs
		if a.Schema != "" {
			if a.Schema != extension {
				panic("scim: attribute " + string(a.Attr) + " of an unknown schema " + a.Schema)
			}
			table = t.ext
		}
		if a.Type == storage.TypeDateTime {
			t.times[a.Attr] = true
		}
		parent, sub, complex := strings.Cut(strings.ToLower(a.Path), ".")
		switch {
		case a.Values != nil:
			subs := make(map[string]storage.Attr, len(a.Values.Subs))
			for _, s := range a.Values.Subs {
				subs[strings.ToLower(string(s.Attr))] = s.Attr
			}
			table[parent] = &attrInfo{attr: a.Attr, multi: true, subs: subs}
		case complex:
			info := table[parent]
			if info == nil {
				info = &attrInfo{subs: map[string]storage.Attr{}}
				table[parent] = info
			}
			info.subs[sub] = a.Attr
			if sub == string(storage.SubValue) {
				info.attr = a.Attr // "manager" means "manager.value"
			}
		default:
			table[parent] = &attrInfo{attr: a.Attr}
		}
	}
	return t
}

var (
	userAttrs = newAttrTable(userSchema, storage.EnterpriseSchema, storage.UserAttrs(),
		"addresses", "groups", "password")
	groupAttrs = newAttrTable(groupSchema, "", storage.GroupAttrs())
)

// resolved is an attribute path mapped onto storage.
type resolved struct {
	attr    storage.Attr // the single-valued attribute, or the multi parent
	sub     storage.Attr // for multi-valued: the sub-attribute ("" = value)
	multi   bool
	isTime  bool
	display string // the path as written, for messages
}

// resolve maps an attribute path (with optional schema URN prefix and
// sub-attribute) onto storage; unknown or unsupported paths are errors.
func (t *attrTable) resolve(p fp.AttributePath) (resolved, error) {
	display := p.String()
	table := t.coreAttrs
	if uri := p.URI(); uri != "" {
		switch {
		case strings.EqualFold(uri, t.core):
		case t.extension != "" && strings.EqualFold(uri, t.extension):
			table = t.ext
		default:
			return resolved{}, fmt.Errorf("unknown schema %q in attribute %q", uri, display)
		}
	}
	info, known := table[strings.ToLower(p.AttributeName)]
	if !known {
		return resolved{}, fmt.Errorf("unknown attribute %q", display)
	}
	if info == nil {
		return resolved{}, fmt.Errorf("filtering on %q is not supported", display)
	}
	sub := strings.ToLower(p.SubAttributeName())
	switch {
	case info.multi:
		r := resolved{attr: info.attr, multi: true, display: display}
		if sub != "" {
			a, ok := info.subs[sub]
			if !ok {
				return resolved{}, fmt.Errorf("unknown or unsupported attribute %q", display)
			}
			r.sub = a
		}
		return r, nil
	case info.subs != nil:
		if sub == "" {
			if info.attr != "" {
				return resolved{attr: info.attr, display: display}, nil
			}
			return resolved{}, fmt.Errorf("%q is a complex attribute: name one of its sub-attributes", display)
		}
		a, ok := info.subs[sub]
		if !ok {
			return resolved{}, fmt.Errorf("unknown or unsupported attribute %q", display)
		}
		return resolved{attr: a, isTime: t.times[a], display: display}, nil
	default:
		if sub != "" {
			return resolved{}, fmt.Errorf("%q has no sub-attributes", display)
		}
		return resolved{attr: info.attr, isTime: t.times[info.attr], display: display}, nil
	}
}

// resolveSortBy maps a sortBy value onto a sortable single-valued attribute.
func (t *attrTable) resolveSortBy(path string) (storage.Attr, error) {
	p, err := fp.ParseAttrPath([]byte(path))
	if err != nil {
		return "", fmt.Errorf("sortBy %q is not an attribute path", path)
	}
	r, err := t.resolve(p)
	if err != nil {
		return "", err
	}
	if r.multi {
		return "", fmt.Errorf("sorting by the multi-valued %q is not supported", path)
	}
	return r.attr, nil
}
