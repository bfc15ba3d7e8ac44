package engine

import (
	"cmp"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// linkTemplates computes a linked source's link keys from a record's own
// attributes, with the mapping templates (Source.Link: key name ->
// template).
type linkTemplates struct {
	t sources.Templates
}

// compileLink compiles a source's link settings; problems are reported
// under "link.<key name>".
func compileLink(link map[string]string, errs *sources.FieldErrors) linkTemplates {
	m := sources.Mapping{}
	for name, tmpl := range link {
		if strings.TrimSpace(name) == "" {
			errs.Add("link", "a link key needs a name")
			continue
		}
		if strings.TrimSpace(tmpl) == "" {
			errs.Add("link."+name, "needs a template over the source's attributes, such as {employeeID}")
			continue
		}
		m[name] = tmpl
	}
	t, terrs := sources.CompileTemplates(m)
	for field, msg := range terrs {
		errs.Add("link."+field, "%s", msg)
	}
	return linkTemplates{t: t}
}

// keys renders the link keys of a record, folded, without empty ones (an
// empty value never links), in key name order so that equal keys hash
// alike.
func (l linkTemplates) keys(attrs map[string]string) []storage.LinkKey {
	var out []storage.LinkKey
	for name, v := range l.t.Render(attrs) {
		if f := storage.FoldLinkValue(v); f != "" {
			out = append(out, storage.LinkKey{Name: name, Value: f})
		}
	}
	slices.SortFunc(out, func(a, b storage.LinkKey) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	})
	return out
}
