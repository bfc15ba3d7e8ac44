package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
)

// chromium is the browser most tests here share; TestSignInByLabels
// launches one of its own, so both ways are tested.
var chromium = NewShared()

func TestMain(m *testing.M) {
	code := m.Run()
	chromium.Close()
	os.Exit(code)
}

// site is a tiny web application with the controls and mistakes the
// helpers must handle, served on 127.0.0.1. It records the forms posted to
// it, so a test sees what the browser really sent.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	posts []url.Values
}

const csp = "default-src 'self'; frame-ancestors 'none'"

func page(title, body string) string {
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>` + title +
		`</title></head><body><main><h1>` + title + `</h1>` + body + `</main></body></html>`
}

// signInForm has one control for each way to name one: <label for>, a
// wrapping <label>, aria-label; a list, checkboxes, a read-only field; and
// two fields with a taken name that nobody meets: one hidden, one hidden
// from assistive technology.
const signInForm = `<form method="post" action="/signin">
<label for="tok">Admin token</label> <input id="tok" name="token" type="password">
<label>Display name <input name="name"></label>
<input name="q" aria-label="Search">
<label for="role">Role</label> <select id="role" name="role"><option value="reader">Reader</option><option value="admin">Admin</option></select>
<label><input type="checkbox" name="remember" value="yes"> Remember me</label>
<label><input type="checkbox" name="audit" value="yes" checked> Audit</label>
<label for="secret">Secret</label> <input id="secret" readonly value="shown-once">
<p id="picked"></p><script src="/form.js"></script>
<div hidden><label for="decoy">Admin token</label><input id="decoy" name="decoy"></div>
<div aria-hidden="true"><label for="decoy2">Admin token</label><input id="decoy2" name="decoy2"></div>
<button type="submit">Sign in</button> <button type="button">Cancel</button>
</form><p><a href="/about">About scimgate</a></p>`

var scripts = map[string]string{
	"/form.js": `document.querySelector("#role").addEventListener("change", (e) => {
		document.querySelector("#picked").textContent = "picked " + e.target.value;
	});`,
	"/error.js": `console.error("boom from error.js");`,
	"/throw.js": `throw new Error("thrown by throw.js");`,
	"/later.js": `setTimeout(() => {
		const b = document.createElement("button");
		b.textContent = "Appeared";
		b.addEventListener("click", () => { document.querySelector("#out").textContent = "clicked the late button"; });
		document.body.append(b);
	}, 300);`,
}

var pages = map[string]string{
	"/":          page("Sign in", signInForm),
	"/about":     page("About scimgate", `<p>An open-source SCIM gateway.</p>`),
	"/csp":       page("Inline script", `<script>document.title = "ran";</script>`),
	"/error":     page("Console error", `<script src="/error.js"></script>`),
	"/throw":     page("Exception", `<script src="/throw.js"></script>`),
	"/later":     page("Late button", `<p id="out"></p><script src="/later.js"></script>`),
	"/ambiguous": page("Two saves", `<button>Save</button><button>Save</button>`),
	"/guarded":   page("Guarded", `<form method="post" action="/forbidden"><button>Send</button></form>`),
}

func newSite(t *testing.T) *site {
	s := &site{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		if js, ok := scripts[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, js)
			return
		}
		html, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /refused", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, page("Refused", `<p role="alert">That token is not valid; paste an admin token.</p>`))
	})
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, r.PostForm)
		s.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "opaque", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/", SameSite: http.SameSiteLaxMode})
		// Post, redirect, get: as the console answers a form.
		http.Redirect(w, r, "/overview?"+url.Values{"name": {r.PostForm.Get("name")}}.Encode(), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /overview", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page("Overview", "<p>Signed in as "+html.EscapeString(r.URL.Query().Get("name"))+"</p>"))
	})
	mux.HandleFunc("POST /forbidden", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, page("Refused", `<p role="alert">The form had expired; send it again.</p>`))
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *site) lastPost(t *testing.T) url.Values {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.posts) == 0 {
		t.Fatal("the site received no form")
	}
	return s.posts[len(s.posts)-1]
}

func TestSignInByLabels(t *testing.T) {
	shots := t.TempDir()
	t.Setenv(EnvScreenshots, shots)
	s := newSite(t)
	b := Start(t)
	b.Navigate(s.URL + "/")
	b.Fill("Admin token", "s3cret")
	b.Fill("Display name", "typed over")
	b.Fill("Display name", "Ann") // Fill replaces what the field held
	b.Fill("Search", "x")
	b.Select("Role", "Admin")
	b.WaitText("picked admin") // the page saw the change
	b.SetChecked("Remember me", true)
	b.SetChecked("Audit", false)
	b.SetChecked("Audit", false) // already so: no click
	if got := b.Value("Secret"); got != "shown-once" {
		t.Errorf(`Value("Secret") = %q, want shown-once`, got)
	}
	if got := b.Value("Display name"); got != "Ann" {
		t.Errorf(`Value("Display name") = %q, want Ann`, got)
	}
	if status := b.Submit("Sign in"); status != http.StatusOK {
		t.Errorf(`Submit("Sign in") = %d, want 200 (the page after the redirect)`, status)
	}
	b.WaitText("Signed in as Ann")

	got := s.lastPost(t)
	for field, want := range map[string]string{"token": "s3cret", "name": "Ann", "q": "x", "decoy": "", "decoy2": "",
		"role": "admin", "remember": "yes", "audit": ""} {
		if got.Get(field) != want {
			t.Errorf("posted %s = %q, want %q (the form: %v)", field, got.Get(field), want, got)
		}
	}
	if loc := b.Location(); loc != s.URL+"/overview?name=Ann" {
		t.Errorf("Location = %q, want where the sign-in redirected", loc)
	}
	if h1 := b.Text("h1"); h1 != "Overview" {
		t.Errorf("Text(h1) = %q, want Overview", h1)
	}
	cookies := map[string]*network.Cookie{}
	for _, c := range b.Cookies() {
		cookies[c.Name] = c
	}
	for _, want := range []struct {
		name     string
		httpOnly bool
		sameSite network.CookieSameSite
	}{
		{"session", true, network.CookieSameSiteStrict},
		{"theme", false, network.CookieSameSiteLax},
	} {
		c := cookies[want.name]
		if c == nil || c.HTTPOnly != want.httpOnly || c.SameSite != want.sameSite {
			t.Errorf("cookie %s = %+v, want HttpOnly %v, SameSite %s", want.name, c, want.httpOnly, want.sameSite)
		}
	}

	path := b.Screenshot("signed-in")
	if path != filepath.Join(shots, "signed-in.png") {
		t.Fatalf("Screenshot wrote %q, want it in %s", path, shots)
	}
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s: %d bytes, %v; want a PNG", path, len(png), err)
	}
	t.Setenv(EnvScreenshots, "")
	if path := b.Screenshot("nowhere"); path != "" {
		t.Errorf("Screenshot without %s wrote %q", EnvScreenshots, path)
	}

	b.Navigate(s.URL + "/guarded")
	if status := b.Submit("Send"); status != http.StatusForbidden {
		t.Errorf(`Submit("Send") to a refusing handler = %d, want 403`, status)
	}
	b.WaitText("The form had expired")
	b.Navigate(s.URL + "/")
	b.ClickLink("About scimgate")
	b.WaitText("An open-source SCIM gateway.")
	if b.HasControl("button", "Sign in") {
		t.Error(`HasControl("button", "Sign in") on the about page = true`)
	}
}

func TestWaitsForLateControls(t *testing.T) {
	s := newSite(t)
	b := chromium.Start(t)
	b.Navigate(s.URL + "/later")
	if b.HasControl("button", "Appeared") {
		t.Fatal("the late button is there at once; the page no longer tests waiting")
	}
	b.Click("Appeared")
	b.WaitText("clicked the late button")
}

func TestProblems(t *testing.T) {
	s := newSite(t)
	b := chromium.Start(t)
	for _, c := range []struct {
		path   string
		status int
		want   string // "" for none
	}{
		{"/csp", 200, "Content-Security-Policy violation"},
		{"/error", 200, "console.error: boom from error.js"},
		{"/throw", 200, "uncaught exception at " + s.URL + "/throw.js:1"},
		{"/refused", 401, ""}, // a refusal is an answer, not a page's mistake
		{"/about", 200, ""},
	} {
		t.Run(strings.TrimPrefix(c.path, "/"), func(t *testing.T) {
			if status := b.Navigate(s.URL + c.path); status != c.status {
				t.Errorf("Navigate = %d, want %d", status, c.status)
			}
			got := b.Problems()
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("Problems() = %q, want none", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
				t.Errorf("Problems() = %q, want one containing %q", got, c.want)
			}
			if again := b.Problems(); len(again) > 0 {
				t.Errorf("Problems() a second time = %q, want them taken", again)
			}
		})
	}
}

// recorder stands in for the test, to check what the helpers report: its
// Fatalf and Skipf end the goroutine as the real ones do.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}
func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}
func (r *recorder) Errorf(format string, args ...any) { r.add(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.add(format, args...); runtime.Goexit() }
func (r *recorder) Skipf(format string, args ...any)  { r.add(format, args...); runtime.Goexit() }

// reports runs step with b reporting to a recorder and returns what it
// reported.
func reports(t *testing.T, b *Browser, step func(b *Browser)) []string {
	rec := &recorder{TB: t}
	real := b.t
	b.t = rec
	defer func() { b.t = real }()
	done := make(chan struct{})
	go func() {
		defer close(done)
		step(b)
	}()
	<-done
	return rec.msgs
}

func TestHelpersSayWhatIsWrong(t *testing.T) {
	s := newSite(t)
	b := chromium.Start(t)
	for _, c := range []struct {
		name string
		path string
		step func(b *Browser)
		want []string // each in the one message
	}{
		{"no such field", "/", func(b *Browser) { b.Fill("Token", "x") },
			[]string{`no field named "Token"`, `"Admin token", "Display name", "Search"`}},
		{"no such button", "/", func(b *Browser) { b.Click("Log in") },
			[]string{`no button named "Log in"`, `"Sign in", "Cancel"`}},
		{"a label is not a button", "/", func(b *Browser) { b.Click("Admin token") },
			[]string{`no button named "Admin token"`}},
		{"no such option", "/", func(b *Browser) { b.Select("Role", "Owner") },
			[]string{`the list "Role" has no option "Owner"`, `["Reader" "Admin"]`}},
		{"a submit that loads nothing", "/", func(b *Browser) { b.Submit("Cancel") },
			[]string{`submit with the button "Cancel" (no new page within 500ms?)`}},
		{"two of a name", "/ambiguous", func(b *Browser) { b.Click("Save") },
			[]string{`2 buttons are named "Save"`}},
		{"no such text", "/about", func(b *Browser) { b.WaitText("Goodbye") },
			[]string{`no text "Goodbye"`, "An open-source SCIM gateway."}},
		{"bad screenshot name", "/about", func(b *Browser) { b.Screenshot("../x") },
			[]string{`screenshot name "../x"`}},
		{"problems at the end", "/error", func(b *Browser) { b.reportProblems() },
			[]string{"the page reported a problem: console.error: boom from error.js"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.Navigate(s.URL + c.path)
			b.Wait = 500 * time.Millisecond // the misses wait this long
			got := reports(t, b, c.step)
			if len(got) != 1 || !containsAll(got[0], c.want) {
				t.Errorf("reported %q, want one message with each of %q", got, c.want)
			}
		})
	}
}

func TestSharedTabsKeepTheirCookies(t *testing.T) {
	s := newSite(t)
	signedIn := chromium.Start(t)
	signedIn.Navigate(s.URL + "/")
	signedIn.Fill("Display name", "Ann")
	signedIn.Click("Sign in")
	signedIn.WaitText("Signed in as Ann")
	if got := len(signedIn.Cookies()); got != 2 {
		t.Fatalf("%d cookies after signing in, want 2", got)
	}
	other := chromium.Start(t)
	other.Navigate(s.URL + "/")
	if got := other.Cookies(); len(got) != 0 {
		t.Errorf("another test's tab sees cookies %+v, want none", got)
	}
}

func TestWithoutChromium(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-chromium")
	t.Run("named but missing", func(t *testing.T) {
		t.Setenv(EnvChromium, missing)
		got := reports(t, &Browser{t: t}, func(b *Browser) { Start(b.t) })
		if len(got) != 1 || !strings.Contains(got[0], EnvChromium+"="+missing+" is not a program") {
			t.Errorf("Start reported %q, want that %s names no program", got, EnvChromium)
		}
	})
	t.Run("none installed", func(t *testing.T) {
		got := reports(t, &Browser{t: t}, func(b *Browser) { locateChromium(b.t, "", missing) })
		if len(got) != 1 || !strings.HasPrefix(got[0], "browser test SKIPPED: no Chromium") || strings.Contains(got[0], "\n") {
			t.Errorf("reported %q, want one skip line", got)
		}
	})
}

func containsAll(s string, parts []string) bool {
	return !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(s, p) })
}
