package entra_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

// newCertificate makes a self-signed RSA certificate, as an admin would
// upload to the app registration.
func newCertificate(t testing.TB) (*x509.Certificate, string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scimgate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	return cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}))
}

func TestCertificateCredentialSignsAFreshAssertionPerToken(t *testing.T) {
	cert, certPEM, keyPEM := newCertificate(t)
	tn := newTenant(t, graphtest.Options{Certificate: cert, UserPageSize: 10})
	tn.Seed(graphtest.SeedOptions{Users: 40, Groups: 1})
	cfg := tn.config()
	cfg.ClientSecret, cfg.PrivateKey, cfg.Certificate = "", keyPEM, certPEM
	src := tn.open(t, cfg)
	// A second token mid-run: the emulator refuses a replayed jti.
	tn.After(2, tn.ExpireAccessTokens)
	rec, res := mustSync(t, src, nil)
	if !res.Complete || len(rec.UsersByKey()) != 40 || tn.TokenRequests() != 2 {
		t.Fatalf("complete=%v users=%d token requests=%d", res.Complete, len(rec.UsersByKey()), tn.TokenRequests())
	}
}

func TestTestExplainsWhatIsWrong(t *testing.T) {
	cert, _, _ := newCertificate(t)
	_, otherCert, otherKey := newCertificate(t)
	for _, tc := range []struct {
		name   string
		roles  []string
		edit   func(c *entra.Config)
		wantIn []string // "" = success
	}{
		{name: "all good"},
		{name: "directory read is enough", roles: []string{"Directory.Read.All"}},
		{name: "wrong secret", edit: func(c *entra.Config) { c.ClientSecret = "secret-id-not-value" },
			wantIn: []string{"client secret is wrong", "Value (not its Secret ID)", "AADSTS7000215"}},
		{name: "unknown app", edit: func(c *entra.Config) { c.ClientID = "99999999-9999-4999-8999-999999999999" },
			wantIn: []string{"no application with client id 99999999-9999-4999-8999-999999999999", "AADSTS700016"}},
		{name: "unknown tenant", edit: func(c *entra.Config) { c.TenantID = "fabrikam.onmicrosoft.com" },
			wantIn: []string{"tenant fabrikam.onmicrosoft.com was not found", "AADSTS90002"}},
		{name: "scope of another resource", edit: func(c *entra.Config) { c.Scope = "https://graph.microsoft.us/.default" },
			wantIn: []string{"scope https://graph.microsoft.us/.default was refused"}},
		{name: "certificate not uploaded", edit: func(c *entra.Config) { c.ClientSecret, c.Certificate, c.PrivateKey = "", otherCert, otherKey },
			wantIn: []string{"certificate credential was refused", "AADSTS700027"}},
		{name: "no permissions", roles: []string{},
			wantIn: []string{"lacks the Microsoft Graph application permission User.Read.All (to read users) and GroupMember.Read.All", "grant admin consent"}},
		{name: "users only", roles: []string{"User.Read.All"},
			wantIn: []string{"permission GroupMember.Read.All (to read groups and their members)"}},
		{name: "missing scope group", edit: func(c *entra.Config) { c.ScopeGroups = []string{"77777777-7777-4777-8777-777777777777"} },
			wantIn: []string{"scope group 77777777-7777-4777-8777-777777777777 cannot be read", "404 Request_ResourceNotFound", "request-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{Certificate: cert, Roles: tc.roles})
			u := tn.AddUser(graphtest.User{UserPrincipalName: "a@contoso.example"})
			tn.AddGroup(graphtest.Group{DisplayName: "G", Members: []string{u}})
			cfg := tn.config()
			if tc.edit != nil {
				tc.edit(cfg)
			}
			err := tn.open(t, cfg).(interface{ Test(context.Context) error }).Test(context.Background())
			if len(tc.wantIn) == 0 {
				if err != nil {
					t.Fatalf("Test: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Test passed, want an error")
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestAuthErrorIsTyped(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	cfg := tn.config()
	cfg.ClientSecret = "wrong"
	_, _, err := syncOnce(t, tn.open(t, cfg), nil)
	var ae *entra.AuthError
	if !errors.As(err, &ae) || ae.AADSTS != 7000215 || ae.Code != "invalid_client" {
		t.Fatalf("err = %#v", err)
	}
}
