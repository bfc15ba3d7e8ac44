package api_test

import (
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/scimgate/scimgate/api/console/browsertest"
)

// TestBrowserConsoleByKeyboardAndAt400Percent signs in with the keyboard
// alone, then loads the main pages in a viewport 320 CSS pixels wide (a
// 1280-pixel window at 400% zoom, or a phone): none may need sideways
// scrolling of the page itself (WCAG 2.1 reflow; a wide table scrolls in
// its own box instead).
func TestBrowserConsoleByKeyboardAndAt400Percent(t *testing.T) {
	b := browsertest.Start(t)
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(1, 4, engineer))
	src := env.call(t, "POST", "/api/v1/sources", env.Admin, map[string]any{
		"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201).str("id")
	run := env.sync(t, src, "")
	env.call(t, "POST", "/api/v1/apps", env.Admin, map[string]any{"name": "crm", "attributes": []string{"userName", "active"}}).want(t, 201)

	if _, err := chromedp.Run(b.Context(), chromedp.EmulateViewport(320, 800)); err != nil {
		t.Fatal(err)
	}
	// Keyboard only: Tab past "Skip to content" and the home link to the
	// token field, type, and Enter sends the form.
	b.Navigate(env.URL + "/ui/signin")
	if err := chromedp.Do(b.Context(),
		chromedp.KeyEvent("\t\t\t"), chromedp.KeyEvent(bootstrapToken), chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	b.WaitText("Signed in as")

	pages := []struct{ path, text string }{
		{"/ui/", "Overview"},
		{"/ui/sources", "hr"},
		{"/ui/sources/" + src, "Run now"},
		{"/ui/sources/" + src + "/runs/" + run.str("id"), "Succeeded"},
		{"/ui/sources/new?kind=csv", "usersPath"},
		{"/ui/apps", "crm"},
		{"/ui/directory", "Search"},
		{"/ui/tokens", "Create token"},
		{"/ui/audit", "Audit log"},
	}
	for _, p := range pages {
		if status := b.Navigate(env.URL + p.path); status != http.StatusOK {
			t.Fatalf("%s: %d", p.path, status)
		}
		b.WaitText(p.text)
		overflow, err := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow > 0 {
			t.Errorf("%s at 320 px: the page is %d px wider than the window", p.path, overflow)
		}
	}
	b.Navigate(env.URL + "/ui/")
	b.Screenshot("overview-phone")
}
