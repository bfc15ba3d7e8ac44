package api_test

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/ldap"
)

// TestSourceSettingsCheckedAgainstTheDescription: settings the kind does
// not describe, and values of the wrong JSON type, are named field by
// field with what to send instead, together with the kind's own
// problems, in one 422; a setting's name differing only in case (which
// JSON decoding alone would accept, leaving a secret unsealed) is
// unknown, and nothing is stored.
func TestSourceSettingsCheckedAgainstTheDescription(t *testing.T) {
	app := apitest.New(t, sources.Registry{"ldap": ldap.Kind()}, apitest.Options{})
	e := &apiEnv{URL: app.URL, Admin: app.Admin, client: app.Client}
	valid := map[string]any{"url": "ldaps://dc1.example.com", "bindDN": "CN=svc,DC=example,DC=com", "bindPassword": "pw", "baseDN": "DC=example,DC=com"}
	with := func(change map[string]any) map[string]any {
		out := maps.Clone(valid)
		for k, v := range change {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	known := "url, startTLS, caFile, insecureSkipVerify, allowPlaintextBind, bindDN, bindPassword, baseDN, userBaseDN, " +
		"groupBaseDN, userFilter, groupFilter, pageSize, timeout, userNameAttribute, expandNestedGroups, reconcileEvery"
	tests := []struct {
		name     string
		settings map[string]any
		want     map[string]string // field: message (prefix)
	}{
		{"unknown settings", with(map[string]any{"colour": "blue", "size": 3}), map[string]string{
			"settings": `unknown setting "colour", "size"; the ldap kind's settings are ` + known}},
		{"a secret's name in another case", with(map[string]any{"bindPassword": nil, "BindPassword": "pw"}), map[string]string{
			"settings":              `unknown setting "BindPassword"; the ldap kind's settings are`,
			"settings.bindPassword": "required"}},
		{"values of the wrong type, with the kind's own problems", with(map[string]any{"pageSize": "many", "startTLS": "yes", "timeout": 30, "baseDN": nil}), map[string]string{
			"settings.pageSize": "must be an integer, such as 1000",
			"settings.startTLS": "must be true or false",
			"settings.timeout":  `must be a string, such as "1m"`,
			"settings.baseDN":   "required: the DN to search under"}},
		{"a value of the right type the kind refuses", with(map[string]any{"pageSize": 5000}), map[string]string{
			"settings.pageSize": "must be between 1 and 1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "ad", "kind": "ldap", "settings": tt.settings})
			fields, _ := r.wantErr(t, 422, "invalid_config")["fields"].(map[string]any)
			got := map[string]string{}
			for f, msg := range fields {
				got[f], _ = msg.(string)
			}
			if len(got) != len(tt.want) {
				t.Errorf("fields %v, want exactly %v", got, tt.want)
			}
			for f, want := range tt.want {
				if !strings.HasPrefix(got[f], want) {
					t.Errorf("%s: %q, want %q", f, got[f], want)
				}
			}
		})
	}
	list := e.call(t, "GET", "/api/v1/sources", e.Admin, nil).want(t, 200)
	if srcs, _ := list.Body["sources"].([]any); len(srcs) != 0 {
		t.Errorf("refused sources were stored: %s", list.Raw)
	}
	created := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "ad", "kind": "ldap", "settings": valid}).want(t, 201)
	if got := created.Body["secretsSet"]; !reflect.DeepEqual(got, []any{"bindPassword"}) {
		t.Errorf("secretsSet %v, want [bindPassword]", got)
	}
}
