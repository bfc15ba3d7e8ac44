package sources

import "sort"

// Templates are compiled mapping templates by target name, rendered over
// a flat attribute map. The sync engine's mappings go through
// CompileMappings; the outbound push renders an app's push mapping with
// Templates, so both speak one template language. Which targets a push
// may write is the push's to check.
type Templates struct {
	byTarget map[string]template
}

// CompileTemplates compiles every template of m, reporting each one that
// does not compile under its target's name.
func CompileTemplates(m Mapping) (Templates, FieldErrors) {
	var errs FieldErrors
	t := Templates{byTarget: make(map[string]template, len(m))}
	for target, src := range m {
		compiled, err := compileTemplate(src)
		if err != nil {
			errs.Add(target, "%v", err)
			continue
		}
		t.byTarget[target] = compiled
	}
	return t, errs
}

// Targets lists the targets t sets, sorted.
func (t Templates) Targets() []string {
	out := make([]string, 0, len(t.byTarget))
	for k := range t.byTarget {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Render fills every template from attrs and returns the values by
// target; a template that yields "" is left out, as in a source mapping.
func (t Templates) Render(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(t.byTarget))
	for target, tmpl := range t.byTarget {
		if v := tmpl.render(attrs); v != "" {
			out[target] = v
		}
	}
	return out
}
