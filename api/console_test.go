package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/sources/sourcetest"
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
		header http.Header
	}{
		{"no token", url.Values{"csrf": {""}}, nil},
		{"wrong token", url.Values{"csrf": {"forged"}}, nil},
		{"other origin", nil, http.Header{"Origin": {"https://evil.example"}}},
		{"other site", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"null"}}},
		{"same site, other origin", nil, http.Header{"Sec-Fetch-Site": {"same-site"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form
			if form == nil {
				form = url.Values{"csrf": {u.csrf}}
			}
			req, _ := http.NewRequest(http.MethodPost, env.URL+"/ui/signout", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.header {
				req.Header[k] = v
			}
			u.do(t, req).want(t, http.StatusForbidden, "Reload the page")
			u.get(t, "/ui/").want(t, http.StatusOK, "Overview") // still signed in
		})
	}
	t.Run("a browser's own post under no-referrer", func(t *testing.T) {
		// Chromium sends Origin "null" on same-origin form posts when the
		// page's Referrer-Policy is no-referrer; Sec-Fetch-Site vouches.
		v := signedIn(t, env)
		form := url.Values{"csrf": {v.csrf}}
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/ui/signout", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "null")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if p := v.do(t, req); p.Status != http.StatusSeeOther || p.Location != "/ui/signin?reason=out" {
			t.Fatalf("sign-out: %d to %q: %s", p.Status, p.Location, p.Body)
		}
	})
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

	// A session ends with its token, and the sign-in page says why.
	created := env.call(t, "POST", "/api/v1/tokens", env.Admin, map[string]any{"name": "ops-console", "role": "admin"}).want(t, 201)
	v := newConsoleUser(t, env).signIn(t, created.str("token"))
	v.get(t, "/ui/").want(t, http.StatusOK, "ops-console")
	env.call(t, "DELETE", "/api/v1/tokens/ops-console", env.Admin, nil).want(t, 204)
	if got := v.get(t, "/ui/"); got.Status != http.StatusSeeOther || got.Location != "/ui/signin?reason=revoked" {
		t.Fatalf("after revocation: %d to %q", got.Status, got.Location)
	}
}

func TestConsoleSessionExpiry(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	env := newAPIEnvWith(t, apitest.Options{Console: api.ConsoleOptions{Now: clock.Now, IdleTimeout: 30 * time.Minute, MaxAge: 2 * time.Hour}})
	cases := []struct {
		name  string
		steps []time.Duration // pauses between page loads
		live  bool            // the session is still live after them
	}{
		{"active", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"idle", []time.Duration{31 * time.Minute}, false},
		{"absolute", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := signedIn(t, env)
			var last uiPage
			for _, d := range tc.steps {
				clock.Advance(d)
				last = u.get(t, "/ui/")
			}
			if tc.live {
				last.want(t, http.StatusOK, "Overview")
				return
			}
			if last.Status != http.StatusSeeOther || last.Location != "/ui/signin?reason=expired" {
				t.Fatalf("%d to %q, want the sign-in page", last.Status, last.Location)
			}
			u.get(t, last.Location).want(t, http.StatusOK, "Your session has ended")
		})
	}
}

// TestConsoleSecureCookieOverTLS: served over TLS, the session cookie is
// Secure, so the browser never sends it over plain HTTP.
func TestConsoleSecureCookieOverTLS(t *testing.T) {
	env := newAPIEnv(t)
	tls := httptest.NewTLSServer(env.Server.Handler())
	t.Cleanup(tls.Close)
	client := tls.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Get(tls.URL + "/ui/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no CSRF value on the sign-in page: %s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, tls.URL+"/ui/signin", strings.NewReader(url.Values{"token": {bootstrapToken}, "csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in over TLS: %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == "scimgate_session" {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("session cookie over TLS %+v: want Secure, HttpOnly, SameSite=Strict", c)
			}
			return
		}
	}
	t.Fatal("no session cookie")
}

// TestConsoleSignInCountsAsAGuess: wrong tokens pasted into the sign-in
// form count against the address's failure limit like wrong bearer
// tokens, so the form is no way around it; past the limit even the right
// token waits, and the page says for how long.
func TestConsoleSignInCountsAsAGuess(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	e := newClockedEnv(t, api.Config{AuthFailuresPerMinute: 3}, clock, &syncBuffer{})
	u := newConsoleUser(t, &apiEnv{URL: e.URL})
	for i := 0; i < 3; i++ {
		u.get(t, "/ui/signin")
		u.post(t, "/ui/signin", url.Values{"token": {"sg_0123456789ab_guess"}}).want(t, http.StatusUnauthorized)
	}
	u.get(t, "/ui/signin")
	p := u.post(t, "/ui/signin", url.Values{"token": {e.Admin}}).want(t, http.StatusTooManyRequests, "too many failed authentications")
	if p.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the refused sign-in")
	}
	clock.Advance(61 * time.Second)
	u.signIn(t, e.Admin)
	u.get(t, "/ui/").want(t, http.StatusOK, "Overview")
}
