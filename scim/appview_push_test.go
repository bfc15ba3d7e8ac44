package scim

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

func TestAppUserRendererAttributes(t *testing.T) {
	u := storage.User{UserName: "ada", Active: true, Title: "Countess",
		Name:       &storage.Name{GivenName: "Ada", FamilyName: "Lovelace"},
		Emails:     []storage.MultiValue{{Value: "ada@example.com", Type: "work", Primary: true}},
		Enterprise: &storage.EnterpriseExt{Department: "Maths", CostCenter: "42"}}
	doc, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		allow    []string
		departed bool
		want     map[string]any
	}{
		{name: "no allow-list", allow: nil, want: map[string]any{"userName": "ada", "active": true, "title": "Countess",
			"name":                   map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
			"emails":                 []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
			storage.EnterpriseSchema: map[string]any{"department": "Maths", "costCenter": "42"}}},
		{name: "allow-list with subs", allow: []string{"userName", "active", "name.givenName", storage.EnterpriseSchema + ":department"},
			want: map[string]any{"userName": "ada", "active": true, "name": map[string]any{"givenName": "Ada"},
				storage.EnterpriseSchema: map[string]any{"department": "Maths"}}},
		{name: "departed", allow: []string{"userName", "active"}, departed: true, want: map[string]any{"userName": "ada", "active": false}},
		{name: "departed without an allow-list", departed: true, want: map[string]any{"userName": "ada", "active": false, "title": "Countess",
			"name":                   map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
			"emails":                 []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
			storage.EnterpriseSchema: map[string]any{"department": "Maths", "costCenter": "42"}}},
		{name: "nothing allowed exists", allow: []string{"nickName"}, want: map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewAppUserRenderer(storage.App{ID: "app", Attributes: tt.allow})
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.Attributes(storage.UserDoc{ID: "u1", JSON: doc, Departed: tt.departed})
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
