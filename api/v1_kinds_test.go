package api_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/ldap"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestKindsDescribeEverySetting: GET /api/v1/kinds shows each kind's
// settings as its Config describes them (checked against the OpenAPI
// document too): types, required, defaults as JSON values, enums,
// secrets, in the Config's order.
func TestKindsDescribeEverySetting(t *testing.T) {
	app := apitest.New(t, sources.Registry{"csv": csv.Kind(), "ldap": ldap.Kind(), "fake": sourcetest.Kind(&sourcetest.Dataset{})}, apitest.Options{})
	e := &apiEnv{URL: app.URL, Admin: app.Admin, client: app.Client}
	o := loadOpenAPI(t, e)
	r := o.do(t, "GET", "/api/v1/kinds", e.Admin, nil, validRequest).want(t, 200)
	var list struct {
		Kinds []struct {
			Name     string           `json:"name"`
			Settings []map[string]any `json:"settings"`
			Secrets  []string         `json:"secrets"`
		} `json:"kinds"`
	}
	if err := json.Unmarshal(r.Raw, &list); err != nil {
		t.Fatal(err)
	}
	settings := map[string]map[string]map[string]any{} // kind, setting name
	names := map[string][]string{}
	secrets := map[string][]string{}
	for _, k := range list.Kinds {
		settings[k.Name] = map[string]map[string]any{}
		for _, s := range k.Settings {
			name, _ := s["name"].(string)
			settings[k.Name][name] = s
			names[k.Name] = append(names[k.Name], name)
		}
		secrets[k.Name] = k.Secrets
	}

	tests := []struct {
		kind, setting string
		want          map[string]any // every field but help
	}{
		{"csv", "usersPath", map[string]any{"name": "usersPath", "type": "path", "required": true, "secret": false, "example": "/data/users.csv"}},
		{"ldap", "bindPassword", map[string]any{"name": "bindPassword", "type": "string", "required": true, "secret": true}},
		{"ldap", "pageSize", map[string]any{"name": "pageSize", "type": "integer", "required": false, "secret": false, "default": 500.0, "example": "1000"}},
		{"ldap", "startTLS", map[string]any{"name": "startTLS", "type": "boolean", "required": false, "secret": false, "default": false}},
		{"ldap", "timeout", map[string]any{"name": "timeout", "type": "duration", "required": false, "secret": false, "default": "30s", "example": "1m"}},
		{"ldap", "userNameAttribute", map[string]any{"name": "userNameAttribute", "type": "enum", "required": false, "secret": false,
			"default": "userPrincipalName", "values": []any{"userPrincipalName", "sAMAccountName"}}},
		{"fake", "apiToken", map[string]any{"name": "apiToken", "type": "string", "required": false, "secret": true}},
		{"fake", "region", map[string]any{"name": "region", "type": "string", "required": true, "secret": false, "example": "eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.setting, func(t *testing.T) {
			got := settings[tt.kind][tt.setting]
			if help, _ := got["help"].(string); len(help) < 10 {
				t.Errorf("help %q says nothing an admin can act on", help)
			}
			delete(got, "help")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s %s:\n got %v\nwant %v", tt.kind, tt.setting, got, tt.want)
			}
		})
	}
	if !slices.Equal(names["csv"], []string{"usersPath", "groupsPath"}) {
		t.Errorf("csv settings %v, want usersPath, groupsPath in the Config's order", names["csv"])
	}
	for kind, want := range map[string][]string{"csv": {}, "ldap": {"bindPassword"}, "fake": {"apiToken"}} {
		if !slices.Equal(secrets[kind], want) {
			t.Errorf("%s secrets %v, want %v (the settings marked secret)", kind, secrets[kind], want)
		}
	}
}

// TestOpenAPIKnowsEverySettingType: the document's enum of setting types
// is sources.SettingTypes, so a new type cannot reach clients undocumented.
func TestOpenAPIKnowsEverySettingType(t *testing.T) {
	o := loadOpenAPI(t, newAPIEnv(t))
	schema := o.doc.Components.Schemas["Setting"]
	if schema == nil || schema.Value.Properties["type"] == nil {
		t.Fatal("the document has no Setting schema with a type")
	}
	var doc []string
	for _, v := range schema.Value.Properties["type"].Value.Enum {
		doc = append(doc, v.(string))
	}
	var want []string
	for _, typ := range sources.SettingTypes() {
		want = append(want, string(typ))
	}
	if !slices.Equal(doc, want) {
		t.Errorf("the document's setting types %v, want %v", doc, want)
	}
}
