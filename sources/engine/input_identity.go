package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// Identity linking as an admin writes it: a source's link keys and its
// authoritative attributes (storage/link.go says what they do).

// MaxLinkKeyChars bounds the name of a link key.
const MaxLinkKeyChars = 64

// Nullable is an input field that tells three states apart, which a
// field replaced whole on PATCH needs: absent (Set false), null (Set,
// Value zero) and a value.
type Nullable[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON is called for null too (encoding/json does so for
// Unmarshalers), which is what sets Set for an explicit null.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	var zero T
	n.Value = zero
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// MarshalJSON writes the value (null when unset; omitzero leaves an
// unset field out).
func (n Nullable[T]) MarshalJSON() ([]byte, error) { return json.Marshal(n.Value) }

// Valued returns a Nullable that is set to v.
func Valued[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: v} }

// applyIdentity sets src's link keys and authoritative attributes from in
// (each replaced whole when sent, on PATCH too; null or empty clears it;
// Replace clears what is not sent) and checks what src then has.
func applyIdentity(src *storage.Source, in SourceInput, replace bool, errs *sources.FieldErrors) {
	switch {
	case in.Link.Set && len(in.Link.Value) > 0:
		src.Link = maps.Clone(in.Link.Value)
	case in.Link.Set || replace:
		src.Link = nil
	}
	switch {
	case in.Authoritative.Set && len(in.Authoritative.Value) > 0:
		src.Authoritative = slices.Clone(in.Authoritative.Value)
	case in.Authoritative.Set || replace:
		src.Authoritative = nil
	}
	if _, ferrs := LinkTemplates(src.Link); len(ferrs) > 0 {
		for f, msg := range ferrs {
			errs.Add(f, "%s", msg)
		}
	}
	src.Authoritative = canonicalAuthoritative(src.Authoritative, errs)
}

// LinkTemplates checks and compiles a source's link keys (name ->
// template over the source's attributes, in the mappings' template
// language), reporting each problem under "link.<name>": a name is a short
// identifier, and a template compiles and reads at least one attribute
// (one that reads none would give every record the same key and link
// them all).
func LinkTemplates(link map[string]string) (sources.Templates, sources.FieldErrors) {
	t, errs := sources.CompileTemplates(link)
	out := sources.FieldErrors{}
	for name, msg := range errs {
		out.Add(linkField(name), "%s", msg)
	}
	for name, tmpl := range link {
		field := linkField(name)
		if p := linkKeyNameProblem(name); p != "" {
			out.Add(field, "%s", p)
			continue
		}
		if out[field] == "" && len(sources.Mapping{name: tmpl}.Attributes()) == 0 {
			out.Add(field, "the template %q reads no attribute; name one in braces, as in {employeeID}", tmpl)
		}
	}
	if len(out) == 0 {
		return t, nil
	}
	return t, out
}

// linkField is where a link key's problems are reported: link.<name>, or
// link for a key without a name.
func linkField(name string) string {
	if name == "" {
		return "link"
	}
	return "link." + name
}

// linkKeyNameProblem says what is wrong with a link key's name, or "".
func linkKeyNameProblem(name string) string {
	switch {
	case name == "":
		return "a link key needs a name"
	case len(name) > MaxLinkKeyChars:
		return fmt.Sprintf("a link key's name has at most %d characters, not %d", MaxLinkKeyChars, len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Sprintf("a link key's name is letters, digits, _ and -; %q has %q", name, r)
		}
	}
	return ""
}

// canonicalAuthoritative returns paths in the merge's own spelling
// (storage.CanonicalMergeAttribute), reporting unknown and repeated ones
// under "authoritative[i]".
func canonicalAuthoritative(paths []string, errs *sources.FieldErrors) []string {
	if len(paths) == 0 {
		return nil
	}
	out := make([]string, 0, len(paths))
	first := map[string]int{}
	for i, p := range paths {
		field := fmt.Sprintf("authoritative[%d]", i)
		c := storage.CanonicalMergeAttribute(p)
		if c == "" {
			errs.Add(field, "%q is not an attribute the merge decides; one of %s", p, strings.Join(storage.MergeAttributes(), ", "))
			continue
		}
		if j, dup := first[c]; dup {
			errs.Add(field, "%s is listed twice (also authoritative[%d])", c, j)
			continue
		}
		first[c] = i
		out = append(out, c)
	}
	return out
}

// identityWarnings are what src's link settings warn about.
func identityWarnings(src storage.Source) []string {
	if len(src.Authoritative) > 0 && len(src.Link) == 0 {
		return []string{"authoritative is set but link is not: authoritative only decides attributes of people linked from several sources, and this source links no one"}
	}
	return nil
}
