package engine_test

import (
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

// mappingConfig records the mappings Prepare hands it.
type mappingConfig struct {
	user, group sources.Mapping
}

func (c *mappingConfig) Validate() sources.FieldErrors            { return nil }
func (c *mappingConfig) Open(sources.Env) (sources.Source, error) { return nil, nil }
func (c *mappingConfig) UseMappings(user, group sources.Mapping)  { c.user, c.group = user, group }

func newMappingKind(cfg *mappingConfig) sources.Kind {
	return sources.Kind{
		New:          func() sources.Config { return cfg },
		UserMapping:  sources.Mapping{"userName": "{login}", "title": "{title}"},
		GroupMapping: sources.Mapping{"displayName": "{cn}"},
	}
}

// TestPrepareHandsEffectiveMappings: a config that fetches only what the
// mapping reads gets the defaults merged with the source's overrides.
func TestPrepareHandsEffectiveMappings(t *testing.T) {
	cfg := &mappingConfig{}
	reg := sources.Registry{"m": newMappingKind(cfg)}
	_, err := engine.Prepare(reg, storage.Source{Kind: "m", Settings: []byte(`{}`),
		Mapping:  storage.SourceMapping{User: map[string]string{"title": "", "displayName": "{fullName}"}},
		Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	user, group := cfg.user, cfg.group
	if !reflect.DeepEqual(user, sources.Mapping{"userName": "{login}", "displayName": "{fullName}"}) ||
		!reflect.DeepEqual(group, sources.Mapping{"displayName": "{cn}"}) {
		t.Errorf("user %v group %v", user, group)
	}
}
