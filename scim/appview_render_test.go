package scim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestViewRenderTrickyStrings renders users whose values are full of
// quotes, backslashes and brackets through the byte-level projection and
// checks the result against the same user decoded and filtered by hand.
func TestViewRenderTrickyStrings(t *testing.T) {
	tricky := []string{`a"b`, `a\`, `a\\`, `\"`, `}{][,:`, `é ü 漢字`, `<&>`, "tab\there", `\\\"x`}
	v, err := newAppView(storage.App{ID: "app", Attributes: []string{"userName", "name.givenName", "emails.value", "active",
		storage.EnterpriseSchema + ":department"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range tricky {
		u := storage.User{
			UserName: "u" + s, DisplayName: s, Title: s, Active: true,
			Name:       &storage.Name{GivenName: s, FamilyName: s},
			Emails:     []storage.MultiValue{{Value: s, Type: s, Primary: true}, {Type: "home"}},
			Enterprise: &storage.EnterpriseExt{Department: s, EmployeeNumber: s},
		}
		d, err := userDoc(u)
		if err != nil {
			t.Fatal(err)
		}
		d.ID, d.Departed = "id-1", true
		var out, scratch bytes.Buffer
		if err := v.appendViewUser(&out, &scratch, d, "http://x/scim/v2"); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%q: output is not JSON: %v\n%s", s, err, out.Bytes())
		}
		delete(got, "meta")
		want := map[string]any{
			"schemas":  []any{userSchema, storage.EnterpriseSchema},
			"id":       "id-1",
			"userName": "u" + s,
			"active":   false, // departed
			"name":     map[string]any{"givenName": s},
			// The second email has no value: the element is left out.
			"emails":                 []any{map[string]any{"value": s}},
			storage.EnterpriseSchema: map[string]any{"department": s},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", s, got, want)
		}
	}
}
