package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

func ptr[T any](v T) *T { return &v }

// TestApplyInput: what POST and PUT (Replace) and PATCH (Patch) make of
// an admin's input, as the store then keeps it.
func TestApplyInput(t *testing.T) {
	reg := sources.Registry{"fake": sourcetest.Kind(&sourcetest.Dataset{})}
	sealer, err := engine.NewSealer(make([]byte, engine.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	created := storage.Source{}
	err = engine.ApplyInput(reg, sealer, &created, engine.SourceInput{
		Name: ptr("  hr  "), Kind: ptr("fake"),
		Settings: map[string]json.RawMessage{"region": raw("eu"), "apiToken": raw("s3cret")},
		Mapping:  &storage.SourceMapping{User: map[string]string{"title": "", "displayName": "{fullName}"}},
	}, engine.Replace)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.ID == "" || created.Name != "hr" || !created.Enabled || created.Precedence != engine.DefaultPrecedence ||
		created.Deletion != (storage.DeletionPolicy{Policy: storage.PolicyDeactivate, MaxPercent: 20}) ||
		string(created.Settings) != `{"region":"eu"}` {
		t.Fatalf("created %+v", created)
	}
	if plain, err := sealer.Open(created.ID, "apiToken", created.Secrets["apiToken"]); err != nil || plain != "s3cret" {
		t.Fatalf("the secret does not open for the new source's id: %q, %v", plain, err)
	}

	for _, tc := range []struct {
		name string
		in   engine.SourceInput
		mode engine.InputMode
		want func(s *storage.Source) // what the input changes in created
	}{
		{"patch keeps what is not sent", engine.SourceInput{Enabled: ptr(false)}, engine.Patch,
			func(s *storage.Source) { s.Enabled = false }},
		{"patch merges mappings target by target",
			engine.SourceInput{Mapping: &storage.SourceMapping{User: map[string]string{"title": "{jobTitle}"}, Group: map[string]string{"externalId": ""}}}, engine.Patch,
			func(s *storage.Source) {
				s.Mapping = storage.SourceMapping{User: map[string]string{"title": "{jobTitle}", "displayName": "{fullName}"},
					Group: map[string]string{"externalId": ""}}
			}},
		{"patch merges settings key by key", engine.SourceInput{Settings: map[string]json.RawMessage{"region": raw("us")}}, engine.Patch,
			func(s *storage.Source) { s.Settings = json.RawMessage(`{"region":"us"}`) }},
		{"patch changes one deletion field", engine.SourceInput{Deletion: &engine.DeletionInput{MaxCount: ptr(5)}}, engine.Patch,
			func(s *storage.Source) { s.Deletion.MaxCount = 5 }},
		{"replace defaults what is not sent; a secret not sent stays",
			engine.SourceInput{Name: ptr("hr"), Settings: map[string]json.RawMessage{"region": raw("eu")}, Precedence: ptr(7)}, engine.Replace,
			func(s *storage.Source) { s.Mapping, s.Precedence = storage.SourceMapping{}, 7 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := clone(created)
			if err := engine.ApplyInput(reg, sealer, &got, tc.in, tc.mode); err != nil {
				t.Fatal(err)
			}
			want := clone(created)
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}

	// Every problem comes back at once, field by field; a kind change
	// stops before the settings are checked against a kind.
	bad := clone(created)
	err = engine.ApplyInput(reg, sealer, &bad, engine.SourceInput{
		Kind: ptr("other"), Name: ptr(" "), Schedule: ptr("5s"),
		Settings: map[string]json.RawMessage{"region": raw(nil)},
		Mapping:  &storage.SourceMapping{User: map[string]string{"shoeSize": "{x}"}},
		Deletion: &engine.DeletionInput{Policy: ptr("shred")},
	}, engine.Patch)
	var inv *sources.InvalidConfigError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want an *InvalidConfigError", err)
	}
	for _, f := range []string{"kind", "name", "schedule"} {
		if inv.Fields[f] == "" {
			t.Errorf("no problem reported for %s: %v", f, inv.Fields)
		}
	}
	// Settings (null removes the required region), mapping and policy
	// problems together.
	bad = clone(created)
	err = engine.ApplyInput(reg, sealer, &bad, engine.SourceInput{Settings: map[string]json.RawMessage{"region": raw(nil)},
		Mapping: &storage.SourceMapping{User: map[string]string{"shoeSize": "{x}"}}, Deletion: &engine.DeletionInput{Policy: ptr("shred")}}, engine.Patch)
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want an *InvalidConfigError", err)
	}
	for _, f := range []string{"settings.region", "mapping.user.shoeSize", "deletion.policy"} {
		if inv.Fields[f] == "" {
			t.Errorf("no problem reported for %s: %v", f, inv.Fields)
		}
	}
}

// clone copies s deeply enough that ApplyInput on the copy leaves s as
// it was.
func clone(s storage.Source) storage.Source {
	b, _ := json.Marshal(s)
	var out storage.Source
	_ = json.Unmarshal(b, &out)
	return out
}
