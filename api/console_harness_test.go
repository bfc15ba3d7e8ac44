package api_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleUser is a browser without JavaScript signed in to the console:
// a cookie jar, and the CSRF value of the last page it read.
type consoleUser struct {
	env  *apiEnv
	http *http.Client
	csrf string
}

// uiPage is one console answer.
type uiPage struct {
	Status   int
	Body     string
	Location string // of a redirect, not followed
	Header   http.Header
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// newConsoleUser is a visitor who has not signed in yet.
func newConsoleUser(t *testing.T, env *apiEnv) *consoleUser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &consoleUser{env: env, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signIn signs in with token and fails the test unless it works.
func (u *consoleUser) signIn(t *testing.T, token string) *consoleUser {
	t.Helper()
	u.get(t, "/ui/signin")
	p := u.post(t, "/ui/signin", url.Values{"token": {token}})
	if p.Status != http.StatusSeeOther || p.Location != "/ui/" {
		t.Fatalf("sign-in: %d to %q, want 303 to /ui/: %s", p.Status, p.Location, p.Body)
	}
	u.get(t, "/ui/") // for the session's CSRF value
	return u
}

// signedIn is a console user signed in with the bootstrap admin token.
func signedIn(t *testing.T, env *apiEnv) *consoleUser {
	return newConsoleUser(t, env).signIn(t, bootstrapToken)
}

func (u *consoleUser) do(t *testing.T, req *http.Request) uiPage {
	t.Helper()
	res, err := u.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := uiPage{Status: res.StatusCode, Body: string(body), Location: res.Header.Get("Location"), Header: res.Header}
	if m := csrfInput.FindStringSubmatch(p.Body); m != nil {
		u.csrf = m[1]
	}
	return p
}

// get loads a console page.
func (u *consoleUser) get(t *testing.T, path string) uiPage {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u.env.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return u.do(t, req)
}

// post sends a form as the browser would, with the CSRF value of the
// last page read (unless form sets "csrf" itself) and this origin.
func (u *consoleUser) post(t *testing.T, path string, form url.Values) uiPage {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["csrf"]; !set {
		form.Set("csrf", u.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, u.env.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.env.URL)
	return u.do(t, req)
}

// want fails the test unless the page has status and contains every text.
func (p uiPage) want(t *testing.T, status int, texts ...string) uiPage {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d: %s", p.Status, status, p.Body)
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.Body)
		}
	}
	return p
}
