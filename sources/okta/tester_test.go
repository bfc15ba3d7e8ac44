package okta_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
)

func TestTestReportsProblemsInPlainWords(t *testing.T) {
	rk, ek := testKeys(t)
	srv := newOrg(t, oktatest.Options{})
	srv.AddAPIToken("00no-admin-role", false)
	both := []string{"okta.users.read", "okta.groups.read"}
	srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oagood", PublicKey: &ek.PublicKey, Scopes: both})
	srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oausersonly", PublicKey: &ek.PublicKey, Scopes: []string{"okta.users.read"}})
	srv.AddServiceApp(oktatest.ServiceApp{ClientID: "0oadpop", PublicKey: &ek.PublicKey, Scopes: both, RequireDPoP: true})
	notOkta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html>nothing here</html>"))
	}))
	defer notOkta.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	ecKeyJWK := privateJWK(t, ek, "")
	app := func(id, key string, extra ...string) map[string]any {
		m := map[string]any{"apiToken": nil, "clientId": id, "privateKey": key}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	cases := []struct {
		name     string
		settings map[string]any
		want     string // "" for success
		sentinel error
	}{
		{"good API token", nil, "", nil},
		{"good service app", app("0oagood", ecKeyJWK), "", nil},
		{"DPoP app, auto", app("0oadpop", ecKeyJWK), "", nil},
		{"bad org URL: nothing listens", map[string]any{"orgURL": closed.URL}, "cannot reach the org", okta.ErrUnreachable},
		{"bad org URL: not Okta", map[string]any{"orgURL": notOkta.URL}, "does not answer like an Okta org", okta.ErrNotOkta},
		{"bad token", map[string]any{"apiToken": "00wrong"}, "Okta refused the API token", okta.ErrUnauthorized},
		{"token without admin role", map[string]any{"apiToken": "00no-admin-role"}, "Read-only Administrator role", okta.ErrForbidden},
		{"missing scope", app("0oausersonly", ecKeyJWK), "grant them on the app's Okta API Scopes tab", okta.ErrForbidden},
		{"unknown client", app("0oaunknown", ecKeyJWK), "refused the client credentials", okta.ErrUnauthorized},
		{"wrong key", app("0oagood", pemOf("PRIVATE KEY", mustPKCS8(t, rk))), "refused the client credentials", okta.ErrUnauthorized},
		{"DPoP required but off", app("0oadpop", ecKeyJWK, "dpop", "off"), "requires DPoP", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := open(t, srv, c.settings)
			err := src.(sources.Tester).Test(t.Context())
			t.Logf("Test() = %v", err)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Test() = %v, want success", err)
			case c.want == "":
				return
			case err == nil || !strings.Contains(err.Error(), c.want):
				t.Fatalf("Test() = %v, want it to say %q", err, c.want)
			case c.sentinel != nil && !errors.Is(err, c.sentinel):
				t.Errorf("Test() = %v, want errors.Is %v", err, c.sentinel)
			}
		})
	}
}
