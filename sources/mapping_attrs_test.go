package sources_test

import (
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

func TestMappingAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    sources.Mapping
		want []string
	}{
		{"empty", nil, []string{}},
		{"plain and filtered", sources.Mapping{"userName": "{sAMAccountName|lower}@{domain}", "title": "{title}"}, []string{"domain", "sAMAccountName", "title"}},
		{"duplicates once", sources.Mapping{"a": "{x}", "b": "{x} {y}"}, []string{"x", "y"}},
		{"escaped braces are no attribute", sources.Mapping{"a": "{{literal}} {real}"}, []string{"real"}},
		{"broken template skipped", sources.Mapping{"a": "{open", "b": "{ok}"}, []string{"ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.m.Attributes()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Attributes() = %q, want %q", got, tc.want)
			}
		})
	}
}
