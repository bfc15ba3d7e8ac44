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

// compileLink compiles a source's link settings with the checks the
// config API applies (LinkTemplates), so a run never starts on settings
// the API would refuse.
func compileLink(link map[string]string, errs *sources.FieldErrors) linkTemplates {
	t, ferrs := LinkTemplates(link)
	for field, msg := range ferrs {
		errs.Add(field, "%s", msg)
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
