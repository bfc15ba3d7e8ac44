package console

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// page is what every template gets: the layout's needs plus the page's Data.
type page struct {
	Title string
	// Nav is the navigation entry to mark current (see layout.html).
	Nav   string
	Actor string
	CSRF  string
	Flash string
	Data  any
}

type pageTemplate struct{ t *template.Template }

// parsePages parses each page template with the layout around it, so
// pages may each define "content" (and "title") without clashing.
func parsePages(now func() time.Time) (map[string]*pageTemplate, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageTemplate{}
	for _, full := range names {
		name := strings.TrimPrefix(full, "templates/")
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New("layout.html").Funcs(templateFuncs(now)).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", full)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pages[name] = &pageTemplate{t: t}
	}
	return pages, nil
}

// render writes a page; the layout fills in the session's actor and CSRF
// value, and a flash message left by the previous request.
func (u *Console) render(c echo.Context, status int, name string, p page) error {
	pt, ok := u.pages[name]
	if !ok {
		return fmt.Errorf("console: no template %s", name)
	}
	if sess := sessionOf(c); sess != nil {
		p.Actor, p.CSRF = sess.Who.Actor, sess.CSRF
	}
	if p.Flash == "" {
		p.Flash = u.takeFlash(c)
	}
	var buf bytes.Buffer
	if err := pt.t.Execute(&buf, p); err != nil {
		return fmt.Errorf("console: rendering %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

const flashCookie = "scimgate_flash"

// flash leaves a one-line message for the page the browser goes to next
// (after a form's redirect).
func (u *Console) flash(c echo.Context, msg string) {
	u.setCookie(c, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), 60)
}

func (u *Console) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	u.setCookie(c, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}

// redirect sends the browser to a console path after a successful form,
// with a flash message for the next page.
func (u *Console) redirect(c echo.Context, path, flash string) error {
	if flash != "" {
		u.flash(c, flash)
	}
	return c.Redirect(http.StatusSeeOther, Prefix+path)
}

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	files := http.FileServer(http.FS(sub))
	return http.StripPrefix("/static", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	}))
}

// templateFuncs are the helpers every template may use.
func templateFuncs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"when":    when,
		"ago":     func(t any) string { return ago(t, now()) },
		"runWord": runWord,
		"join":    strings.Join,
	}
}

// when shows a time absolutely, in UTC, to the minute; "never" for zero.
func when(t any) string {
	tm, ok := asTime(t)
	if !ok {
		return "never"
	}
	return tm.UTC().Format("2006-01-02 15:04 UTC")
}

// ago shows how long before now t was, roughly ("3 minutes ago").
func ago(t any, now time.Time) string {
	tm, ok := asTime(t)
	if !ok {
		return ""
	}
	d := now.Sub(tm)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func asTime(t any) (time.Time, bool) {
	switch v := t.(type) {
	case time.Time:
		return v, !v.IsZero()
	case *time.Time:
		if v == nil {
			return time.Time{}, false
		}
		return *v, !v.IsZero()
	}
	return time.Time{}, false
}

// runWords are the run statuses in words an admin reads.
var runWords = map[storage.RunStatus]string{
	storage.RunQueued: "Queued", storage.RunRunning: "Running", storage.RunSucceeded: "Succeeded",
	storage.RunFailed: "Failed", storage.RunHeld: "Held for approval", storage.RunRejected: "Rejected",
}

func runWord(status any) string {
	s := storage.RunStatus(fmt.Sprint(status))
	if w, ok := runWords[s]; ok {
		return w
	}
	return string(s)
}
