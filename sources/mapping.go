package sources

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// Mapping maps a target attribute of ours to a template over the source's
// attributes: literal text with {name} placeholders, optionally filtered as
// {name|lower}, {name|upper} or {name|trim}; "{{" and "}}" stand for
// braces. A template that yields "" leaves the attribute unset.
//
//	"userName": "{givenName|lower}.{familyName|lower}@example.com"
type Mapping map[string]string

// Merge returns m with overrides applied; an override of "" removes the
// target from the mapping.
func (m Mapping) Merge(overrides map[string]string) Mapping {
	out := make(Mapping, len(m)+len(overrides))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range overrides {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// Attributes lists the source attributes m's templates read, sorted and
// without duplicates; templates that do not compile are skipped.
func (m Mapping) Attributes() []string {
	seen := map[string]bool{}
	for _, src := range m {
		t, err := compileTemplate(src)
		if err != nil {
			continue
		}
		for _, seg := range t {
			if seg.attr != "" {
				seen[seg.attr] = true
			}
		}
	}
	return sortedKeys(seen)
}

// mapTarget is one attribute a mapping may set.
type mapTarget[R storage.Resource] struct {
	set func(r *R, v string) error
	// sourceKey marks the manager: its value is a source key the engine
	// resolves, not an attribute value.
	sourceKey bool
}

// mapTargets derives the mapping targets from storage's attribute table.
// Elements of a multi-valued attribute get one target per type; the first
// element mapped is primary, so clients that want one address get a stable
// one. Booleans accept the spellings directories use.
func mapTargets[R storage.Resource](attrs []storage.AttrSpec[R]) map[string]mapTarget[R] {
	out := map[string]mapTarget[R]{}
	for _, a := range attrs {
		rule := a.Map
		switch {
		case rule.Target == "": // mappings cannot write it
		case rule.SourceKey:
			out[rule.Target] = mapTarget[R]{sourceKey: true}
		case a.Type == storage.TypeMulti:
			for _, typ := range rule.Types {
				out[rule.Target+"."+typ] = mapTarget[R]{set: func(r *R, v string) error {
					a.AddElement(r, storage.MultiValue{Value: v, Type: typ, Primary: len(a.Elements(r)) == 0})
					return nil
				}}
			}
		case a.Type == storage.TypeBoolean:
			out[rule.Target] = mapTarget[R]{set: func(r *R, v string) error {
				b, err := parseBool(v)
				if err != nil {
					return fmt.Errorf("%s: %w", rule.Target, err)
				}
				a.SetBool(r, b)
				return nil
			}}
		default:
			out[rule.Target] = mapTarget[R]{set: func(r *R, v string) error {
				a.SetString(r, v)
				return nil
			}}
		}
	}
	return out
}

var (
	userTargets  = mapTargets(storage.UserAttrs())
	groupTargets = mapTargets(storage.GroupAttrs())
)

// UserTargets lists the attributes a user mapping may set, sorted.
func UserTargets() []string { return sortedKeys(userTargets) }

// GroupTargets lists the attributes a group mapping may set, sorted.
func GroupTargets() []string { return sortedKeys(groupTargets) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// template is a compiled mapping template.
type template []segment

type segment struct {
	literal string
	attr    string // "" for a literal
	filter  func(string) string
}

var templateFilters = map[string]func(string) string{
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
	"guid":  canonicalGUID,
}

// compileTemplate parses a template; the error says what is wrong.
func compileTemplate(s string) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, fmt.Errorf("unmatched } at position %d", i+1)
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at position %d", i+1)
			}
			if lit.Len() > 0 {
				t = append(t, segment{literal: lit.String()})
				lit.Reset()
			}
			inner := strings.TrimSpace(s[i+1 : i+end])
			attr, filter, hasFilter := strings.Cut(inner, "|")
			attr = strings.TrimSpace(attr)
			if attr == "" {
				return nil, fmt.Errorf("empty placeholder at position %d", i+1)
			}
			seg := segment{attr: attr}
			if hasFilter {
				f, ok := templateFilters[strings.TrimSpace(filter)]
				if !ok {
					return nil, fmt.Errorf("unknown filter %q (use %s)", strings.TrimSpace(filter), strings.Join(sortedKeys(templateFilters), ", "))
				}
				seg.filter = f
			}
			t = append(t, seg)
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t = append(t, segment{literal: lit.String()})
	}
	return t, nil
}

// render fills the template from attrs. A template whose placeholders are
// all empty yields "", so literal decoration alone never sets a value.
func (t template) render(attrs map[string]string) string {
	if len(t) == 1 && t[0].attr != "" {
		return t[0].value(attrs)
	}
	var b strings.Builder
	anyValue := false
	for _, seg := range t {
		if seg.attr == "" {
			b.WriteString(seg.literal)
			continue
		}
		v := seg.value(attrs)
		if v != "" {
			anyValue = true
		}
		b.WriteString(v)
	}
	if !anyValue {
		return ""
	}
	return b.String()
}

func (seg segment) value(attrs map[string]string) string {
	v := attrs[seg.attr]
	if seg.filter != nil {
		v = seg.filter(v)
	}
	return v
}

// CompiledMapping is a validated mapping, ready to apply.
type CompiledMapping struct {
	user  map[string]template
	group map[string]template
}

// CompileMappings validates and compiles user and group mappings,
// reporting every problem by target ("mapping.user.userName").
func CompileMappings(user, group Mapping) (CompiledMapping, FieldErrors) {
	var errs FieldErrors
	cm := CompiledMapping{user: map[string]template{}, group: map[string]template{}}
	for target, src := range user {
		if _, ok := userTargets[target]; !ok {
			errs.Add("mapping.user."+target, "unknown target attribute; one of %s", strings.Join(UserTargets(), ", "))
			continue
		}
		t, err := compileTemplate(src)
		if err != nil {
			errs.Add("mapping.user."+target, "%v", err)
			continue
		}
		cm.user[target] = t
	}
	if _, ok := cm.user["userName"]; !ok && errs["mapping.user.userName"] == "" {
		errs.Add("mapping.user.userName", "userName must be mapped")
	}
	for target, src := range group {
		if _, ok := groupTargets[target]; !ok {
			errs.Add("mapping.group."+target, "unknown target attribute; one of %s", strings.Join(GroupTargets(), ", "))
			continue
		}
		t, err := compileTemplate(src)
		if err != nil {
			errs.Add("mapping.group."+target, "%v", err)
			continue
		}
		cm.group[target] = t
	}
	if _, ok := cm.group["displayName"]; !ok && errs["mapping.group.displayName"] == "" && len(group) > 0 {
		errs.Add("mapping.group.displayName", "displayName must be mapped")
	}
	return cm, errs
}

// MapUser builds our user from a record. managerKey is the manager's
// source key, for the engine to resolve.
func (cm CompiledMapping) MapUser(rec UserRecord) (u storage.User, managerKey string, err error) {
	u.Active = true
	// Sorted targets give multi-valued attributes a stable order.
	for _, target := range sortedKeys(cm.user) {
		v := cm.user[target].render(rec.Attrs)
		if v == "" {
			continue
		}
		switch t := userTargets[target]; {
		case t.sourceKey:
			managerKey = v
		default:
			if err := t.set(&u, v); err != nil {
				return storage.User{}, "", err
			}
		}
	}
	if strings.TrimSpace(u.UserName) == "" {
		return storage.User{}, "", fmt.Errorf("the mapping gives no userName")
	}
	return u, managerKey, nil
}

// MapGroup builds our group from a record.
func (cm CompiledMapping) MapGroup(rec GroupRecord) (storage.Group, error) {
	var g storage.Group
	for target, t := range cm.group {
		if v := t.render(rec.Attrs); v != "" {
			if err := groupTargets[target].set(&g, v); err != nil {
				return storage.Group{}, err
			}
		}
	}
	if strings.TrimSpace(g.DisplayName) == "" {
		return storage.Group{}, fmt.Errorf("the mapping gives no displayName")
	}
	return g, nil
}

// parseBool accepts the spellings directories use.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "enabled", "active":
		return true, nil
	case "no", "n", "disabled", "inactive":
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}
