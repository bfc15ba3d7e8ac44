package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestConsoleSignIn(t *testing.T) {
	env := newAPIEnv(t)
	reader := env.Reader
	cases := []struct {
		name       string
		token      string
		wantStatus int
		wantText   string
	}{
		{"empty", "", http.StatusUnauthorized, "not a valid admin token"},
		{"garbage", "hello", http.StatusUnauthorized, "not a valid admin token"},
		{"wrong secret", env.Admin[:len(env.Admin)-3] + "xyz", http.StatusUnauthorized, "not a valid admin token"},
		{"reader token", reader, http.StatusForbidden, "needs an admin token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newConsoleUser(t, env)
			u.get(t, "/ui/signin").want(t, http.StatusOK, `<label for="token">Admin token</label>`)
			p := u.post(t, "/ui/signin", url.Values{"token": {tc.token}}).want(t, tc.wantStatus, tc.wantText)
			if strings.Contains(p.Body, tc.token) && tc.token != "" {
				t.Fatal("the refused token is echoed in the page")
			}
			if got := u.get(t, "/ui/"); got.Status != http.StatusSeeOther || !strings.HasPrefix(got.Location, "/ui/signin") {
				t.Fatalf("after a refused sign-in the overview answered %d to %q", got.Status, got.Location)
			}
		})
	}
	t.Run("admin token", func(t *testing.T) {
		u := newConsoleUser(t, env).signIn(t, env.Admin)
		p := u.get(t, "/ui/").want(t, http.StatusOK, "Overview", "Sign out")
		if strings.Contains(p.Body, env.Admin) {
			t.Fatal("the token is in the page")
		}
		for _, h := range []string{"Content-Security-Policy", "Referrer-Policy"} {
			if p.Header.Get(h) == "" {
				t.Errorf("no %s header", h)
			}
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		if got := p.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("Referrer-Policy %q", got)
		}
	})
}

func TestConsoleSessionCookie(t *testing.T) {
	env := newAPIEnv(t)
	u := newConsoleUser(t, env)
	u.get(t, "/ui/signin")
	p := u.post(t, "/ui/signin", url.Values{"token": {bootstrapToken}})
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "scimgate_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %v", p.Header)
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ui" {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui", session)
	}
	if session.Secure {
		t.Fatal("Secure on a plain-HTTP console: the browser would never send it back")
	}
	if strings.Contains(session.Value, bootstrapToken) {
		t.Fatal("the token is in the cookie")
	}
}

func TestConsoleCSRF(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	cases := []struct {
		name   string
		form   url.Values
		origin string
	}{
		{"no token", url.Values{"csrf": {""}}, ""},
		{"wrong token", url.Values{"csrf": {"forged"}}, ""},
		{"other origin", nil, "https://evil.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form
			if form == nil {
				form = url.Values{"csrf": {u.csrf}}
			}
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/ui/signout", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			u.do(t, req).want(t, http.StatusForbidden, "Reload the page")
			u.get(t, "/ui/").want(t, http.StatusOK, "Overview") // still signed in
		})
	}
	t.Run("sign-in form without its value", func(t *testing.T) {
		v := newConsoleUser(t, env)
		v.get(t, "/ui/signin")
		v.post(t, "/ui/signin", url.Values{"token": {bootstrapToken}, "csrf": {"forged"}}).want(t, http.StatusForbidden, "sign in again")
	})
}

func TestConsoleSignOutAndRevocation(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	p := u.post(t, "/ui/signout", nil)
	if p.Status != http.StatusSeeOther || p.Location != "/ui/signin?reason=out" {
		t.Fatalf("sign-out: %d to %q", p.Status, p.Location)
	}
	if got := u.get(t, "/ui/"); got.Status != http.StatusSeeOther {
		t.Fatalf("after sign-out the overview answered %d", got.Status)
	}

	// A session ends with its token.
	created := env.call(t, "POST", "/api/v1/tokens", env.Admin, map[string]any{"name": "ops-console", "role": "admin"}).want(t, 201)
	v := newConsoleUser(t, env).signIn(t, created.str("token"))
	v.get(t, "/ui/").want(t, http.StatusOK, "ops-console")
	env.call(t, "DELETE", "/api/v1/tokens/ops-console", env.Admin, nil).want(t, 204)
	if got := v.get(t, "/ui/"); got.Status != http.StatusSeeOther || got.Location != "/ui/signin?reason=revoked" {
		t.Fatalf("after revocation: %d to %q", got.Status, got.Location)
	}
}
