package okta_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
)

func testKeys(t testing.TB) (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return rsaKey, ecKey
}

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func mustPKCS8(t testing.TB, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// privateJWK renders a key as Okta's console shows a generated one.
func privateJWK(t testing.TB, k crypto.Signer, kid string) string {
	var m map[string]string
	switch k := k.(type) {
	case *rsa.PrivateKey:
		m = map[string]string{"kty": "RSA", "kid": kid, "n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes()),
			"d": enc(k.D.Bytes()), "p": enc(k.Primes[0].Bytes()), "q": enc(k.Primes[1].Bytes())}
	case *ecdsa.PrivateKey:
		raw, _ := k.PublicKey.Bytes()
		d, _ := k.Bytes()
		m = map[string]string{"kty": "EC", "kid": kid, "crv": "P-256", "x": enc(raw[1:33]), "y": enc(raw[33:]), "d": enc(d)}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestServiceAppWithPrivateKeyJWT(t *testing.T) {
	rk, ek := testKeys(t)
	ecDER, _ := x509.MarshalECPrivateKey(ek)
	keys := []struct {
		name string
		pub  crypto.PublicKey
		key  string
	}{
		{"RSA PKCS#8 PEM", &rk.PublicKey, pemOf("PRIVATE KEY", mustPKCS8(t, rk))},
		{"RSA PKCS#1 PEM", &rk.PublicKey, pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))},
		{"EC SEC 1 PEM", &ek.PublicKey, pemOf("EC PRIVATE KEY", ecDER)},
		{"EC PKCS#8 PEM", &ek.PublicKey, pemOf("PRIVATE KEY", mustPKCS8(t, ek))},
		{"RSA JWK", &rk.PublicKey, privateJWK(t, rk, "key-1")},
		{"EC JWK", &ek.PublicKey, privateJWK(t, ek, "key-1")},
	}
	dpop := []struct {
		app     bool   // the app requires DPoP
		setting string // the source's dpop setting
		tokens  int    // token requests a run needs
	}{
		{false, "auto", 1},
		{true, "auto", 3}, // no proof -> invalid_dpop_proof; no nonce -> use_dpop_nonce; then the token
		{true, "on", 2},
		{false, "on", 2},
	}
	for _, k := range keys {
		for _, d := range dpop {
			t.Run(fmt.Sprintf("%s, app requires DPoP %v, dpop %s", k.name, d.app, d.setting), func(t *testing.T) {
				srv := newOrg(t, oktatest.Options{})
				srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oaservice", PublicKey: k.pub, KeyID: "key-1",
					Scopes: []string{"okta.users.read", "okta.groups.read"}, RequireDPoP: d.app})
				u := srv.AddUser(person(1))
				g := srv.AddGroup(oktatest.GroupSpec{Name: "Team"})
				srv.AddMember(g, u)
				src := open(t, srv, map[string]any{"apiToken": nil, "clientId": "0oaservice", "privateKey": k.key, "keyId": "key-1", "dpop": d.setting})

				rec, _ := run(t, src, sources.Request{})

				if len(rec.Got.Users) != 1 || len(rec.Got.Groups) != 1 || len(rec.Got.Groups[0].Members) != 1 {
					t.Fatalf("users %d, groups %+v", len(rec.Got.Users), rec.Got.Groups)
				}
				st := srv.Stats()
				if st.ByBucket["oauth2"] != d.tokens {
					t.Errorf("token requests = %d, want %d", st.ByBucket["oauth2"], d.tokens)
				}
				for _, r := range st.Log {
					if r.Bucket != "oauth2" && r.Status != 200 {
						t.Errorf("%s %s answered %d", r.Method, r.Path, r.Status)
					}
				}
			})
		}
	}
}

func TestRevokedAccessTokenIsRenewedMidRun(t *testing.T) {
	_, ek := testKeys(t)
	for _, requireDPoP := range []bool{false, true} {
		t.Run(fmt.Sprintf("DPoP %v", requireDPoP), func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{})
			srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oaservice", PublicKey: &ek.PublicKey,
				Scopes: []string{"okta.users.read", "okta.groups.read"}, RequireDPoP: requireDPoP})
			for i := range 450 {
				srv.AddUser(person(i))
			}
			src := open(t, srv, map[string]any{"apiToken": nil, "clientId": "0oaservice", "privateKey": privateJWK(t, ek, "")})
			rec := &sourcetest.Recorder{OnUsers: func(page int) error {
				if page == 1 {
					srv.RevokeAccessTokens()
				}
				return nil
			}}
			if _, err := src.Sync(t.Context(), sources.Request{}, rec); err != nil {
				t.Fatal(err)
			}
			if len(rec.Got.Users) != 450 {
				t.Errorf("users = %d", len(rec.Got.Users))
			}
			unauthorized := 0
			for _, r := range srv.Stats().Log {
				if r.Status == 401 {
					unauthorized++
				}
			}
			if unauthorized != 1 {
				t.Errorf("401 answers = %d, want exactly the one after the revocation", unauthorized)
			}
		})
	}
}

func TestAccessTokenIsRenewedBeforeItExpires(t *testing.T) {
	_, ek := testKeys(t)
	srv := newOrg(t, oktatest.Options{})
	srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oaservice", PublicKey: &ek.PublicKey, Scopes: []string{"okta.users.read", "okta.groups.read"}})
	for i := range 450 {
		srv.AddUser(person(i))
	}
	src := open(t, srv, map[string]any{"apiToken": nil, "clientId": "0oaservice", "privateKey": privateJWK(t, ek, "")})
	// A slow run: 58 minutes pass after the first page, so the hour-long
	// token has less than the five-minute margin left.
	rec := &sourcetest.Recorder{OnUsers: func(page int) error {
		if page == 1 {
			srv.Clock().Advance(58 * time.Minute)
		}
		return nil
	}}
	if _, err := src.Sync(t.Context(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if len(rec.Got.Users) != 450 || st.ByBucket["oauth2"] != 2 {
		t.Errorf("users %d, token requests %d; want 450 and 2", len(rec.Got.Users), st.ByBucket["oauth2"])
	}
	for _, r := range st.Log {
		if r.Status == 401 {
			t.Errorf("%s answered 401: the token should be renewed ahead of expiry", r.Path)
		}
	}
}
