package scim

import (
	"reflect"
	"testing"

	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

// TestParseSimplePath: the fast path gives what the filter parser gives,
// and leaves alone what it does not understand.
func TestParseSimplePath(t *testing.T) {
	for _, path := range []string{
		"title", "name.givenName", "$ref", "x509Certificates",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
		"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
		"a-b_c", "a.b.c", "1abc", "", ".", "a.", ":a", "urn::a", "urn:a:", "a b", "_a",
		`emails[type eq "work"].value`, `members[value eq "x"]`, "urn:x:y_z:a", "é",
	} {
		want, wantErr := fp.ParsePath([]byte(path))
		got, ok := parseSimplePath(path)
		switch {
		case ok && wantErr != nil:
			t.Errorf("%q: fast path accepts, the parser says %v", path, wantErr)
		case ok && !reflect.DeepEqual(got, want):
			t.Errorf("%q: fast path %+v, parser %+v", path, got, want)
		case !ok && wantErr == nil && want.ValueExpression == nil && want.SubAttribute == nil:
			t.Errorf("%q: the parser takes this simple path (%+v), the fast path does not", path, want)
		}
	}
}

// TestPatchAppenderMatchesScan: the indexed append gives what appending
// one value at a time with a scan of the list gives, duplicates, case
// variants, non-ASCII values and primaries included.
func TestPatchAppenderMatchesScan(t *testing.T) {
	emails, _ := newPatchSchemas(schema.CoreUserSchema(), nil).core.Attributes.ContainsAttribute("emails")
	mk := func() []any {
		return []any{
			map[string]any{"value": "a@x", "type": "work", "primary": true},
			map[string]any{"value": "\u212a@x"},
			map[string]any{"type": "home"},
		}
	}
	values := []any{
		map[string]any{"value": "A@X", "type": "work"},
		map[string]any{"value": "k@x", "primary": true},
		map[string]any{"value": "b@x", "primary": true},
		map[string]any{"type": "home"},
		map[string]any{"value": "b@x", "type": "other"},
		map[string]any{"value": "c@x"},
		map[string]any{"value": "a@x", "primary": true},
		map[string]any{"value": "c@x", "primary": true},
	}
	// The reference: the scan applyPatch used before the index.
	want := mk()
	for _, v := range patchClone(values).([]any) {
		i := patchIndexSame(want, v, emails)
		if i < 0 {
			want = append(want, v)
			i = len(want) - 1
		} else {
			_ = patchMerge(want[i].(map[string]any), v.(map[string]any), emails, false)
		}
		if patchIsPrimary(want[i]) {
			patchFixPrimary(want, i)
		}
	}
	app := newPatchAppender(mk(), emails)
	for _, v := range patchClone(values).([]any) {
		app.append(v)
	}
	if !reflect.DeepEqual(app.list, want) {
		t.Errorf("indexed append:\n%v\nscan:\n%v", app.list, want)
	}
}
