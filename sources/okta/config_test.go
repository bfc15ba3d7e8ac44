package okta_test

import (
	"crypto/x509"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/okta"
)

func TestValidate(t *testing.T) {
	rk, ek := testKeys(t)
	rsaPEM := pemOf("PRIVATE KEY", mustPKCS8(t, rk))
	base := map[string]any{"orgURL": "https://acme.okta.com", "apiToken": "00abc"}
	cases := []struct {
		name     string
		settings map[string]any // merged over base; nil values delete
		errs     map[string]string
	}{
		{"api token", nil, nil},
		{"api token pasted with its scheme", map[string]any{"apiToken": "SSWS 00abc"}, nil},
		{"service app", map[string]any{"apiToken": nil, "clientId": "0oa1", "privateKey": rsaPEM, "dpop": "on"}, nil},
		{"service app, JWK", map[string]any{"apiToken": nil, "clientId": "0oa1", "privateKey": privateJWK(t, ek, "k")}, nil},
		{"loopback http", map[string]any{"orgURL": "http://127.0.0.1:8080"}, nil},
		{"everything tuned", map[string]any{"groupIds": []string{"00g1"}, "groupNamePrefix": "app-", "groupTypes": []string{"APP_GROUP"},
			"fullReconcileInterval": "12h", "maxConcurrency": 8, "rateLimitReserve": 0, "maxRateLimitWait": "1h"}, nil},
		{"no org URL", map[string]any{"orgURL": nil}, map[string]string{"orgURL": "required"}},
		{"plain http", map[string]any{"orgURL": "http://acme.okta.com"}, map[string]string{"orgURL": "https://"}},
		{"admin console URL", map[string]any{"orgURL": "https://acme-admin.okta.com"}, map[string]string{"orgURL": "acme.okta.com"}},
		{"URL with a path", map[string]any{"orgURL": "https://acme.okta.com/oauth2/default"}, map[string]string{"orgURL": "without a path"}},
		{"no credentials", map[string]any{"apiToken": nil}, map[string]string{"apiToken": "required"}},
		{"both credentials", map[string]any{"clientId": "0oa1", "privateKey": rsaPEM}, map[string]string{"apiToken": "not both"}},
		{"client id alone", map[string]any{"apiToken": nil, "clientId": "0oa1"}, map[string]string{"privateKey": "required"}},
		{"key alone", map[string]any{"apiToken": nil, "privateKey": rsaPEM}, map[string]string{"clientId": "required"}},
		{"public key pasted", map[string]any{"apiToken": nil, "clientId": "0oa1", "privateKey": pemOf("PUBLIC KEY", mustPKIX(t, &rk.PublicKey))},
			map[string]string{"privateKey": "not a private key"}},
		{"public JWK pasted", map[string]any{"apiToken": nil, "clientId": "0oa1", "privateKey": `{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`},
			map[string]string{"privateKey": "no private part"}},
		{"garbage key", map[string]any{"apiToken": nil, "clientId": "0oa1", "privateKey": "hunter2"}, map[string]string{"privateKey": "not a PEM"}},
		{"bad dpop", map[string]any{"dpop": "sometimes"}, map[string]string{"dpop": "auto, on or off"}},
		{"bad group type", map[string]any{"groupTypes": []string{"SECURITY"}}, map[string]string{"groupTypes": "OKTA_GROUP"}},
		{"empty group id", map[string]any{"groupIds": []string{" "}}, map[string]string{"groupIds": "empty"}},
		{"reconcile too often", map[string]any{"fullReconcileInterval": "10m"}, map[string]string{"fullReconcileInterval": "at least 1h"}},
		{"reconcile not a duration", map[string]any{"fullReconcileInterval": "daily"}, map[string]string{"fullReconcileInterval": "not a duration"}},
		{"too many workers", map[string]any{"maxConcurrency": 100}, map[string]string{"maxConcurrency": "between 1 and 32"}},
		{"reserve too high", map[string]any{"rateLimitReserve": 95}, map[string]string{"rateLimitReserve": "between 0 and 90"}},
		{"wait too short", map[string]any{"maxRateLimitWait": "10s"}, map[string]string{"maxRateLimitWait": "at least 1m"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := maps.Clone(base)
			for k, v := range c.settings {
				if v == nil {
					delete(all, k)
				} else {
					all[k] = v
				}
			}
			raw, _ := json.Marshal(all)
			cfg := okta.Kind().New()
			if err := json.Unmarshal(raw, cfg); err != nil {
				t.Fatal(err)
			}
			got := cfg.Validate()
			if len(got) != len(c.errs) {
				t.Fatalf("errors = %v, want fields %v", got, slices.Collect(maps.Keys(c.errs)))
			}
			for field, fragment := range c.errs {
				if !strings.Contains(got[field], fragment) {
					t.Errorf("%s: %q, want it to mention %q", field, got[field], fragment)
				}
			}
		})
	}
}

func mustPKIX(t testing.TB, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestKindDeclaresSecretsAndDefaults(t *testing.T) {
	k := okta.Kind()
	if !slices.Equal(k.Secrets(), []string{"apiToken", "privateKey"}) {
		t.Errorf("secrets = %v", k.Secrets())
	}
	want := map[string]string{"userName": "{login}", "externalId": "{id}", "emails.work": "{email}", "name.givenName": "{firstName}",
		"name.familyName": "{lastName}", "displayName": "{displayName}", "title": "{title}", "enterprise.department": "{department}",
		"enterprise.employeeNumber": "{employeeNumber}", "phoneNumbers.mobile": "{mobilePhone}", "enterprise.manager": "{managerId}",
		"active": "{active}"}
	for target, tmpl := range want {
		if k.UserMapping[target] != tmpl {
			t.Errorf("user mapping %s = %q, want %q", target, k.UserMapping[target], tmpl)
		}
	}
	if k.GroupMapping["displayName"] != "{name}" || k.GroupMapping["externalId"] != "{id}" {
		t.Errorf("group mapping = %v", k.GroupMapping)
	}
}
