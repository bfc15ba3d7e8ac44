package ldap

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/storage"
)

func TestValidate(t *testing.T) {
	minimal := func() Config {
		return Config{URL: "ldaps://dc1.example.com", BindDN: "svc-scim@example.com", BindPassword: "pw",
			BaseDN: "DC=example,DC=com", CAFile: "/etc/scimgate/ad-ca.pem"}
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want sources.FieldErrors
	}{
		{"the five settings are enough", func(*Config) {}, nil},
		{"everything set", func(c *Config) {
			c.URL, c.StartTLS, c.UserBaseDN, c.GroupBaseDN = "ldap://dc1:389", true, "OU=Staff,DC=example,DC=com", "OU=Groups,DC=example,DC=com"
			c.UserFilter, c.GroupFilter, c.PageSize, c.Timeout = "(&(objectClass=user)(mail=*))", "objectClass=group", 1000, "1m"
			c.UserNameAttribute, c.ExpandNestedGroups, c.ReconcileEvery = "samaccountname", true, "6h"
		}, nil},
		{"nothing set", func(c *Config) { *c = Config{} }, sources.FieldErrors{
			"url":          "required: ldaps://dc.example.com or ldap://dc.example.com (with startTLS)",
			"bindDN":       "required: the DN, UPN (user@example.com) or DOMAIN\\user of a read-only account",
			"bindPassword": "required",
			"baseDN":       "required: the DN to search under, e.g. DC=example,DC=com",
		}},
		{"not an LDAP URL", func(c *Config) { c.URL = "https://dc1" }, sources.FieldErrors{
			"url": "must look like ldaps://dc.example.com[:636] or ldap://dc.example.com[:389]"}},
		{"URL with a DN", func(c *Config) { c.URL = "ldap://dc1/DC=example,DC=com" }, sources.FieldErrors{
			"url": "must have no DN or query part; set baseDN instead"}},
		{"plaintext bind refused", func(c *Config) { c.URL = "ldap://dc1:389" }, sources.FieldErrors{
			"startTLS": "required with ldap:// (without it bindPassword is sent in clear); use ldaps://, set startTLS, or set allowPlaintextBind to accept the risk"}},
		{"metadata address", func(c *Config) { c.URL = "ldaps://169.254.169.254" }, sources.FieldErrors{
			"url": "169.254.169.254 is a link-local address (where cloud metadata services live); upstreams may not be there"}},
		{"plaintext bind opted into", func(c *Config) { c.URL, c.AllowPlaintextBind = "ldap://dc1:389", true }, nil},
		{"startTLS on ldaps", func(c *Config) { c.StartTLS = true }, sources.FieldErrors{
			"startTLS": "only applies to ldap:// URLs; ldaps:// is encrypted from the start"}},
		{"relative caFile and skip verify", func(c *Config) { c.CAFile, c.InsecureSkipVerify = "ca.pem", true }, sources.FieldErrors{
			"caFile":             "must be an absolute path to a PEM file",
			"insecureSkipVerify": "contradicts caFile: with insecureSkipVerify the CA is not checked"}},
		// go-ldap's own reason follows in parentheses.
		{"bad DNs and filters", func(c *Config) { c.BaseDN, c.UserFilter, c.GroupBaseDN = "example.com", "(&(a=b)", "OU=x,=y" }, sources.FieldErrors{
			"baseDN":      "is not a DN (",
			"groupBaseDN": "is not a DN (",
			"userFilter":  "is not an LDAP filter (",
		}},
		{"limits", func(c *Config) {
			c.PageSize, c.Timeout, c.ReconcileEvery, c.UserNameAttribute = 5000, "soon", "10s", "mail"
		}, sources.FieldErrors{
			"pageSize":          "must be between 1 and 1000 (AD's MaxPageSize)",
			"timeout":           "must be a duration of at least 1s, such as 30s",
			"reconcileEvery":    "must be a duration of at least 1m0s, such as 24h0m0s",
			"userNameAttribute": "must be userPrincipalName or sAMAccountName",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := minimal()
			tc.edit(&c)
			got := c.Validate()
			if len(got) == 0 {
				got = nil
			}
			for k, v := range got {
				if tc.want[k] == "" {
					t.Errorf("unexpected %s: %s", k, v)
				}
			}
			for k, v := range tc.want {
				if got[k] != v && !(strings.HasSuffix(v, "(") && strings.HasPrefix(got[k], v)) {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{URL: "ldaps://dc1", BindDN: "x", BindPassword: "y", BaseDN: "DC=example,DC=com"}
	s, errs := c.settings()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := []any{s.userBaseDN, s.groupBaseDN, s.userFilter, s.groupFilter, s.pageSize, s.groupPageSize, s.timeout, s.userNameAttr, s.reconcileEvery, s.rangeStep}
	want := []any{"DC=example,DC=com", "DC=example,DC=com", "(&(objectCategory=person)(objectClass=user))", "(objectCategory=group)",
		500, 100, 30 * time.Second, "userPrincipalName", 24 * time.Hour, 1500}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults %v, want %v", got, want)
	}
}

// TestAttributesFollowTheMapping: the directory is asked for what the
// effective mapping reads, computed names replaced by their inputs.
func TestAttributesFollowTheMapping(t *testing.T) {
	reg := sources.Registry{"ldap": Kind()}
	settings, _ := json.Marshal(map[string]any{"url": "ldaps://dc1", "bindDN": "x", "bindPassword": "y", "baseDN": "DC=example,DC=com"})
	prep, err := engine.Prepare(reg, storage.Source{Kind: "ldap", Settings: settings, Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate},
		Mapping: storage.SourceMapping{
			User:  map[string]string{"title": "{extensionAttribute3}", "phoneNumbers.mobile": "", "enterprise.costCenter": "{managerDN}"},
			Group: map[string]string{"displayName": "{cn}"},
		}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := prep.Config.(*Config).settings()
	wantUser := []string{"objectGUID", "userAccountControl", "accountExpires", "userPrincipalName", "sAMAccountName",
		"company", "department", "displayName", "employeeID", "employeeNumber", "extensionAttribute3", "givenName", "mail",
		"manager", "sn", "telephoneNumber"}
	if !reflect.DeepEqual(s.userAttrs, wantUser) {
		t.Errorf("user attributes %q\nwant %q", s.userAttrs, wantUser)
	}
	if want := []string{"objectGUID", "cn"}; !reflect.DeepEqual(s.groupAttrs, want) {
		t.Errorf("group attributes %q, want %q", s.groupAttrs, want)
	}
}

// TestSettingsNamesAreTheContract: the JSON names admins write.
func TestSettingsNamesAreTheContract(t *testing.T) {
	in := `{"url":"ldap://dc1","startTLS":true,"caFile":"/ca.pem","insecureSkipVerify":false,"bindDN":"a","bindPassword":"b",
		"baseDN":"DC=x","userBaseDN":"OU=u,DC=x","groupBaseDN":"OU=g,DC=x","userFilter":"(a=b)","groupFilter":"(c=d)","pageSize":100,
		"timeout":"10s","userNameAttribute":"sAMAccountName","expandNestedGroups":true,"reconcileEvery":"12h"}`
	dec := json.NewDecoder(bytes.NewReader([]byte(in)))
	dec.DisallowUnknownFields()
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("validate: %v", errs)
	}
	if !reflect.DeepEqual(Kind().Secrets(), []string{"bindPassword"}) {
		t.Errorf("secrets %v", Kind().Secrets())
	}
}
