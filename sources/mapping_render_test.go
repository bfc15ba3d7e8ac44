package sources

import (
	"maps"
	"testing"
)

func TestTemplatesRender(t *testing.T) {
	attrs := map[string]string{"emails.work": "Ada@Example.com", "name.givenName": " Ada ", "name.familyName": "Lovelace"}
	tests := []struct {
		name    string
		mapping Mapping
		want    map[string]string
		errs    []string
	}{
		{name: "placeholder", mapping: Mapping{"userName": "{emails.work}"}, want: map[string]string{"userName": "Ada@Example.com"}},
		{name: "filters and literals", mapping: Mapping{"displayName": "{name.givenName|trim} {name.familyName|upper}", "userName": "{emails.work|lower}"},
			want: map[string]string{"displayName": "Ada LOVELACE", "userName": "ada@example.com"}},
		{name: "empty placeholders leave the target out", mapping: Mapping{"title": "Dr. {title}"}, want: map[string]string{}},
		{name: "braces", mapping: Mapping{"nickName": "{{{name.familyName}}}"}, want: map[string]string{"nickName": "{Lovelace}"}},
		{name: "bad templates reported by target", mapping: Mapping{"userName": "{emails.work", "title": "{x|shout}", "nickName": "{name.familyName}"},
			want: map[string]string{"nickName": "Lovelace"}, errs: []string{"title", "userName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, errs := CompileTemplates(tt.mapping)
			for _, f := range tt.errs {
				if errs[f] == "" {
					t.Errorf("no error for %s: %v", f, errs)
				}
			}
			if len(errs) != len(tt.errs) {
				t.Errorf("errors %v, want for %v", errs, tt.errs)
			}
			if got := tmpl.Render(attrs); !maps.Equal(got, tt.want) {
				t.Errorf("Render = %v, want %v", got, tt.want)
			}
		})
	}
}
