package entra_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/sources/entra"
)

func TestValidate(t *testing.T) {
	_, certPEM, keyPEM := newCertificate(t)
	_, otherCert, _ := newCertificate(t)
	valid := func() *entra.Config {
		return &entra.Config{TenantID: "contoso.onmicrosoft.com", ClientID: "11111111-2222-4333-8444-555555555555", ClientSecret: "v~alue"}
	}
	for _, tc := range []struct {
		name   string
		edit   func(c *entra.Config)
		fields []string
	}{
		{"secret", func(c *entra.Config) {}, nil},
		{"tenant GUID and national cloud", func(c *entra.Config) {
			c.TenantID, c.LoginURL, c.GraphURL, c.Scope = "72f988bf-86f1-41af-91ab-2d7cd011db47", "https://login.microsoftonline.us", "https://graph.microsoft.us/", "https://graph.microsoft.us/.default"
		}, nil},
		{"certificate", func(c *entra.Config) { c.ClientSecret, c.PrivateKey, c.Certificate = "", keyPEM, certPEM }, nil},
		{"loopback http for tests", func(c *entra.Config) { c.GraphURL, c.LoginURL = "http://127.0.0.1:8080", "http://localhost:9" }, nil},
		{"nothing", func(c *entra.Config) { *c = entra.Config{} }, []string{"clientId", "clientSecret", "tenantId"}},
		{"bad ids", func(c *entra.Config) { c.TenantID, c.ClientID = "contoso tenant", "my-app" }, []string{"clientId", "tenantId"}},
		{"both credentials", func(c *entra.Config) { c.PrivateKey, c.Certificate = keyPEM, certPEM }, []string{"clientSecret"}},
		{"key without certificate", func(c *entra.Config) { c.ClientSecret, c.PrivateKey = "", keyPEM }, []string{"certificate"}},
		{"certificate without key", func(c *entra.Config) { c.ClientSecret, c.Certificate = "", certPEM }, []string{"privateKey"}},
		{"key of another certificate", func(c *entra.Config) { c.ClientSecret, c.PrivateKey, c.Certificate = "", keyPEM, otherCert }, []string{"privateKey"}},
		{"garbage PEM", func(c *entra.Config) { c.ClientSecret, c.PrivateKey, c.Certificate = "", "key", "cert" }, []string{"certificate"}},
		{"plain http elsewhere", func(c *entra.Config) { c.GraphURL = "http://graph.example.com" }, []string{"graphURL"}},
		{"relative URL", func(c *entra.Config) { c.LoginURL = "login.microsoftonline.com" }, []string{"loginURL"}},
		{"scope without .default", func(c *entra.Config) { c.Scope = "User.Read.All" }, []string{"scope"}},
		{"scope groups", func(c *entra.Config) { c.ScopeGroups = []string{"22222222-2222-4222-8222-222222222222", "Sales"} }, []string{"scopeGroups[1]"}},
		{"extra attributes", func(c *entra.Config) { c.ExtraAttributes = []string{"city", "bad name", "manager"} }, []string{"extraAttributes[1]", "extraAttributes[2]"}},
		{"throttle wait", func(c *entra.Config) { c.MaxThrottleWait = "1h" }, nil},
		{"throttle wait too short", func(c *entra.Config) { c.MaxThrottleWait = "30s" }, []string{"maxThrottleWait"}},
		{"throttle wait not a duration", func(c *entra.Config) { c.MaxThrottleWait = "forever" }, []string{"maxThrottleWait"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(c)
			var got []string
			for f := range c.Validate() {
				got = append(got, f)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tc.fields) {
				t.Errorf("fields with problems = %v, want %v (%v)", got, tc.fields, c.Validate())
			}
		})
	}
}

func TestKindDefaults(t *testing.T) {
	k := entra.Kind()
	if !slices.Equal(k.Secrets(), []string{"clientSecret", "privateKey"}) {
		t.Errorf("secrets = %v", k.Secrets())
	}
	want := map[string]string{
		"userName": "{userPrincipalName}", "active": "{active}", "emails.work": "{mail}", "enterprise.employeeNumber": "{employeeId}",
		"enterprise.department": "{department}", "title": "{jobTitle}", "enterprise.manager": "{manager}", "externalId": "{id}",
		"phoneNumbers.mobile": "{mobilePhone}", "phoneNumbers.work": "{businessPhones}",
	}
	for target, tmpl := range want {
		if k.UserMapping[target] != tmpl {
			t.Errorf("user mapping %s = %q, want %q", target, k.UserMapping[target], tmpl)
		}
	}
	if k.GroupMapping["displayName"] != "{displayName}" || k.GroupMapping["externalId"] != "{id}" {
		t.Errorf("group mapping = %v", k.GroupMapping)
	}
}
