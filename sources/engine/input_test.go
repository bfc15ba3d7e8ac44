package engine_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
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

// TestApplyInputIdentity: link and authoritative as POST, PUT and PATCH
// bodies carry them (decoded from JSON, so absent, null and a value are
// told apart): each is replaced whole when sent, cleared by null or an
// empty value, kept by a PATCH that does not send it; authoritative is
// stored in the merge's spelling.
func TestApplyInputIdentity(t *testing.T) {
	reg := sources.Registry{"fake": sourcetest.Kind(&sourcetest.Dataset{})}
	const mgr = storage.EnterpriseSchema + ":manager"
	stored := func() storage.Source {
		src := storage.Source{}
		in := decodeInput(t, `{"name": "hr", "kind": "fake", "settings": {"region": "eu"},
			"link": {"employeeId": "{employeeNumber}", "anchor": "{objectGUID|guid}"}, "authoritative": ["Title", "manager"]}`)
		if err := engine.ApplyInput(reg, nil, &src, in, engine.Replace); err != nil {
			t.Fatalf("create: %v", err)
		}
		return src
	}
	created := stored()
	if want := map[string]string{"employeeId": "{employeeNumber}", "anchor": "{objectGUID|guid}"}; !reflect.DeepEqual(created.Link, want) {
		t.Errorf("created link %v, want %v", created.Link, want)
	}
	if want := []string{"title", mgr}; !reflect.DeepEqual(created.Authoritative, want) {
		t.Errorf("created authoritative %q, want %q", created.Authoritative, want)
	}
	for _, tc := range []struct {
		name          string
		body          string
		mode          engine.InputMode
		link          map[string]string
		authoritative []string
	}{
		{"patch without them keeps both", `{"enabled": false}`, engine.Patch,
			created.Link, created.Authoritative},
		{"patch replaces link whole", `{"link": {"email": "{mail|lower}"}}`, engine.Patch,
			map[string]string{"email": "{mail|lower}"}, created.Authoritative},
		{"patch null clears link", `{"link": null}`, engine.Patch, nil, created.Authoritative},
		{"patch empty object clears link", `{"link": {}}`, engine.Patch, nil, created.Authoritative},
		{"patch replaces authoritative whole", `{"authoritative": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"]}`, engine.Patch,
			created.Link, []string{storage.EnterpriseSchema + ":department"}},
		{"patch null clears authoritative", `{"authoritative": null}`, engine.Patch, created.Link, nil},
		{"replace without them clears both", `{"name": "hr", "settings": {"region": "eu"}}`, engine.Replace, nil, nil},
		{"replace with them sets them", `{"name": "hr", "settings": {"region": "eu"}, "link": {"k": "{id}"}, "authoritative": ["userName"]}`, engine.Replace,
			map[string]string{"k": "{id}"}, []string{"userName"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := stored()
			if err := engine.ApplyInput(reg, nil, &got, decodeInput(t, tc.body), tc.mode); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Link, tc.link) || !reflect.DeepEqual(got.Authoritative, tc.authoritative) {
				t.Errorf("link %v authoritative %q, want %v %q", got.Link, got.Authoritative, tc.link, tc.authoritative)
			}
		})
	}
}

// TestApplyInputIdentityProblems: every problem with link and
// authoritative comes back at once, each under its field.
func TestApplyInputIdentityProblems(t *testing.T) {
	reg := sources.Registry{"fake": sourcetest.Kind(&sourcetest.Dataset{})}
	long := strings.Repeat("k", engine.MaxLinkKeyChars+1)
	for _, tc := range []struct {
		name string
		body string
		want map[string]string // field -> a part of its message
	}{
		{"key names", `{"link": {"emp id": "{a}", "` + long + `": "{a}", "ok_key-2": "{a}"}}`, map[string]string{
			"link.emp id": "letters, digits", "link." + long: "at most 64"}},
		{"templates", `{"link": {"a": "{x", "b": "{x|shout}", "c": "constant", "d": "{{literal}}"}}`, map[string]string{
			"link.a": "unclosed {", "link.b": "unknown filter", "link.c": "reads no attribute", "link.d": "reads no attribute"}},
		{"authoritative unknown and repeated", `{"authoritative": ["title", "shoeSize", "TITLE", "manager", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"]}`,
			map[string]string{"authoritative[1]": "one of externalId, userName", "authoritative[2]": "also authoritative[0]", "authoritative[4]": "also authoritative[3]"}},
		{"both with another field", `{"schedule": "5s", "link": {"": "{a}"}, "authoritative": [""]}`, map[string]string{
			"schedule": "", "link": "needs a name", "authoritative[0]": "not an attribute"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := storage.Source{}
			if err := engine.ApplyInput(reg, nil, &src, decodeInput(t, `{"name": "hr", "kind": "fake", "settings": {"region": "eu"}}`), engine.Replace); err != nil {
				t.Fatal(err)
			}
			err := engine.ApplyInput(reg, nil, &src, decodeInput(t, tc.body), engine.Patch)
			var inv *sources.InvalidConfigError
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want an *InvalidConfigError", err)
			}
			if len(inv.Fields) != len(tc.want) {
				t.Errorf("fields %v, want exactly %v", inv.Fields, tc.want)
			}
			for f, part := range tc.want {
				if msg, ok := inv.Fields[f]; !ok || !strings.Contains(msg, part) {
					t.Errorf("%s: %q, want it to say %q (all: %v)", f, msg, part, inv.Fields)
				}
			}
		})
	}
}

// TestIdentityWarnings: authoritative on a source that links no one is
// warned about; with link it is not.
func TestIdentityWarnings(t *testing.T) {
	reg := sources.Registry{"fake": sourcetest.Kind(&sourcetest.Dataset{})}
	for _, tc := range []struct {
		src  storage.Source
		want int
	}{
		{storage.Source{Kind: "fake", Authoritative: []string{"title"}}, 1},
		{storage.Source{Kind: "fake", Authoritative: []string{"title"}, Link: map[string]string{"k": "{id}"}}, 0},
		{storage.Source{Kind: "fake", Link: map[string]string{"k": "{id}"}}, 0},
	} {
		if got := engine.Warnings(reg, tc.src); len(got) != tc.want || (tc.want == 1 && !strings.Contains(got[0], "authoritative is set but link is not")) {
			t.Errorf("%+v: warnings %q, want %d", tc.src, got, tc.want)
		}
	}
}

func decodeInput(t *testing.T, body string) engine.SourceInput {
	t.Helper()
	var in engine.SourceInput
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return in
}
