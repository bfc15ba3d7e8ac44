package sourcetest

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// CheckDefaults checks that every default the kind's description states
// is what the kind does without the setting: effective (the kind's
// resolved settings, whatever its type) is the same for base alone and
// for base with the setting at its described default. base is a valid
// set of settings without defaulted ones.
func CheckDefaults(t *testing.T, k sources.Kind, base map[string]any, effective func(sources.Config) any) {
	t.Helper()
	decode := func(settings map[string]any) sources.Config {
		t.Helper()
		raw, err := json.Marshal(settings)
		if err != nil {
			t.Fatal(err)
		}
		cfg := k.New()
		if err := json.Unmarshal(raw, cfg); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		if errs := cfg.Validate(); len(errs) > 0 {
			t.Fatalf("settings %s do not validate: %v", raw, errs)
		}
		return cfg
	}
	without := effective(decode(base))
	checked := 0
	for _, s := range k.Settings() {
		if s.Default == nil {
			continue
		}
		if _, ok := base[s.Name]; ok {
			t.Fatalf("base sets %s, which has a default", s.Name)
		}
		with := maps.Clone(base)
		with[s.Name] = s.Default
		if got := effective(decode(with)); !reflect.DeepEqual(got, without) {
			t.Errorf("%s at its described default %v resolves to\n%#v\nbut without it to\n%#v", s.Name, s.Default, got, without)
		}
		checked++
	}
	if checked == 0 {
		t.Error("the kind describes no defaults to check")
	}
}
