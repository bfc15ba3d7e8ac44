package engine_test

import (
	"slices"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// TestPrepareHandsLinkAttributes: a config that fetches only what its
// mappings read (ldap) is asked for the attributes the link keys read
// too, or a link key over an attribute no mapping reads would be empty
// and link nothing.
func TestPrepareHandsLinkAttributes(t *testing.T) {
	tests := []struct {
		name string
		link map[string]string
		want []string // attributes the config is asked for
	}{
		{"no link keys: the mapping's attributes", nil, []string{"login", "title"}},
		{"link keys over attributes no mapping reads", map[string]string{"employeeId": "{employeeID}", "anchor": "{objectGUID|guid}"},
			[]string{"employeeID", "login", "objectGUID", "title"}},
		{"a link key over a mapped attribute", map[string]string{"login": "{login}"}, []string{"login", "title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &mappingConfig{}
			reg := sources.Registry{"m": newMappingKind(cfg)}
			_, err := engine.Prepare(reg, storage.Source{Kind: "m", Settings: []byte(`{}`), Link: tt.link,
				Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.user.Attributes()
			slices.Sort(got)
			if !slices.Equal(slices.Compact(got), tt.want) {
				t.Errorf("attributes asked for %v, want %v", got, tt.want)
			}
		})
	}
}
