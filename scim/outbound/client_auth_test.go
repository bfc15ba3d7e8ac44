package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

func TestClientBearerRefused(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: testToken})
	c, s := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) { cfg.Auth.Token = "wrong" })
	_, err := c.Get(context.Background(), outbound.KindUsers, "u-1")
	var te *outbound.TargetError
	if !errors.As(err, &te) || te.Status != http.StatusUnauthorized || !strings.Contains(te.Detail, "bearer token") {
		t.Fatalf("err = %v, want TargetError 401 with the target's detail", err)
	}
	if te.Method != "GET" || te.Path != "/Users/u-1" {
		t.Errorf("TargetError names %s %s, want GET /Users/u-1", te.Method, te.Path)
	}
	if len(tgt.Requests()) != 1 || len(s.all()) != 0 {
		t.Errorf("a refused static token is not retried: %d requests, waits %v", len(tgt.Requests()), s.all())
	}
}

// tokenIssuer is a tiny OAuth 2.0 token endpoint (RFC 6749 §4.4): it
// checks the client's credentials and issues tok-1, tok-2, ...
type tokenIssuer struct {
	srv    *httptest.Server
	mu     sync.Mutex
	issued int
	scopes []string
}

func newTokenIssuer(t *testing.T, clientID, secret string) *tokenIssuer {
	e := &tokenIssuer{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		if !ok {
			id, sec = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.PostFormValue("grant_type") != "client_credentials" || id != clientID || sec != secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
			return
		}
		e.mu.Lock()
		e.issued++
		e.scopes = append(e.scopes, r.PostFormValue("scope"))
		n := e.issued
		e.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tokenIssuer) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issued
}

func oauthClient(t *testing.T, tgt *targettest.Target, tokenURL, secret string) *outbound.Client {
	t.Helper()
	c, _ := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) {
		cfg.Auth = outbound.ClientAuth{
			PushAuth:     storage.PushAuth{Type: storage.PushAuthOAuth2, TokenURL: tokenURL, ClientID: "scimgate", Scope: "scim.write scim.read"},
			ClientSecret: secret,
		}
		cfg.HTTPClient = &http.Client{}
	})
	return c
}

func TestClientOAuth2(t *testing.T) {
	ctx := context.Background()
	tokens := newTokenIssuer(t, "scimgate", "client-secret")
	tgt := targettest.New(t, targettest.Options{Token: "tok-1"})
	c := oauthClient(t, tgt, tokens.srv.URL+"/token", "client-secret")

	for i := range 3 {
		if _, err := c.Create(ctx, outbound.KindUsers, userBody(fmt.Sprintf("u%d@example.com", i), "")); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if n := tokens.count(); n != 1 {
		t.Fatalf("token fetched %d times for 3 requests, want once (reused)", n)
	}
	if tokens.scopes[0] != "scim.write scim.read" {
		t.Errorf("scope sent = %q", tokens.scopes[0])
	}

	// The target stops accepting tok-1 (revoked): one 401, a new token,
	// and the request goes through.
	tgt.SetToken("tok-2")
	if _, err := c.Get(ctx, outbound.KindUsers, tgt.Users()[0].ID()); err != nil {
		t.Fatalf("get after the token was revoked: %v", err)
	}
	if n := tokens.count(); n != 2 {
		t.Fatalf("tokens issued = %d, want 2", n)
	}

	// A token that is refused again is the target's final answer.
	tgt.SetToken("never")
	_, err := c.Get(ctx, outbound.KindUsers, "u-1")
	if !isTargetError(http.StatusUnauthorized)(err) || tokens.count() != 3 {
		t.Fatalf("err = %v after %d tokens, want TargetError 401 after one refresh", err, tokens.count())
	}
}

func TestClientOAuth2Refused(t *testing.T) {
	tokens := newTokenIssuer(t, "scimgate", "client-secret")
	tgt := targettest.New(t, targettest.Options{Token: "tok-1"})
	c := oauthClient(t, tgt, tokens.srv.URL+"/token", "wrong-secret")
	_, err := c.Get(context.Background(), outbound.KindUsers, "u-1")
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("err = %v, want the token endpoint's invalid_client", err)
	}
	var te *outbound.TargetError
	if errors.As(err, &te) {
		t.Fatalf("a refused token request is not the target's answer about an object: %v", err)
	}
	if n := len(tgt.Requests()); n != 0 {
		t.Fatalf("target saw %d requests without a token, want 0", n)
	}
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  outbound.ClientConfig
		want string
	}{
		{"relative url", outbound.ClientConfig{BaseURL: "/scim/v2", Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: "t"}}, "absolute http(s) URL"},
		{"ftp url", outbound.ClientConfig{BaseURL: "ftp://example.com/scim", Auth: outbound.ClientAuth{PushAuth: bearerAuth, Token: "t"}}, "absolute http(s) URL"},
		{"empty token", outbound.ClientConfig{BaseURL: "https://example.com/scim/v2", Auth: outbound.ClientAuth{PushAuth: bearerAuth}}, "token is empty"},
		{"oauth2 without secret", outbound.ClientConfig{BaseURL: "https://example.com/scim/v2",
			Auth: outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthOAuth2, TokenURL: "https://idp.example.com/token", ClientID: "x"}}}, "clientSecret required"},
		{"unknown auth", outbound.ClientConfig{BaseURL: "https://example.com/scim/v2", Auth: outbound.ClientAuth{PushAuth: storage.PushAuth{Type: "basic"}}}, `"basic"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := outbound.NewClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestClientOAuth2TokenEndpointHiccup(t *testing.T) {
	tokens := newTokenIssuer(t, "scimgate", "client-secret")
	fails := 2 // the oauth2 package tries two auth styles before it gives up
	var mu sync.Mutex
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		down := fails > 0
		fails--
		mu.Unlock()
		if down {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		tokens.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(flaky.Close)
	tgt := targettest.New(t, targettest.Options{Token: "tok-1"})
	c, s := newClient(t, tgt, "generic", func(cfg *outbound.ClientConfig) {
		cfg.Auth = outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthOAuth2, TokenURL: flaky.URL, ClientID: "scimgate"}, ClientSecret: "client-secret"}
		cfg.HTTPClient = &http.Client{}
	})
	if _, err := c.Create(context.Background(), outbound.KindUsers, userBody("a@example.com", "")); err != nil {
		t.Fatalf("create after a token endpoint 502: %v", err)
	}
	if len(s.all()) != 1 || tokens.count() != 1 || tgt.Count("POST", "/Users") != 1 {
		t.Fatalf("waits %v, tokens %d, posts %d", s.all(), tokens.count(), tgt.Count("POST", "/Users"))
	}
}
