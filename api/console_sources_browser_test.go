package api_test

import (
	"testing"

	"github.com/scimgate/scimgate/api/console/browsertest"
)

// TestBrowserSourceForm adds, tests and edits a csv source in
// headless Chromium, by the controls' accessible names; the schedule's
// preview comes from sources.js as the schedule is typed. Any console
// error or CSP violation fails it (browsertest).
func TestBrowserSourceForm(t *testing.T) {
	b := browsertest.Start(t)
	env := newAPIEnv(t)
	users := env.writeFile(t, "users.csv", usersCSV(0, 3, engineer))

	browserSignIn(t, b, env)
	b.Navigate(env.URL + "/ui/sources")
	b.ClickLink("Add source")
	b.ClickLink("Add a csv source")
	b.Fill("Name", "hr-export")
	b.Fill("usersPath", users)
	b.Fill("Schedule", "0 6 * * *")
	b.WaitText("06:00 UTC (in ") // the script's preview, without pressing Preview
	b.Screenshot("source-form")
	b.Click("Create source")
	b.WaitText("Created source hr-export.")
	b.Click("Test connection")
	b.WaitText("Connection works:")
	b.Screenshot("source")

	b.ClickLink("Edit")
	b.Fill("Schedule", "every tuesday")
	b.WaitText("Preview: ")
	b.Fill("Schedule", "15m")
	b.Click("Save source")
	b.WaitText("Saved source hr-export.")
	list := env.call(t, "GET", "/api/v1/sources", env.Admin, nil).want(t, 200)
	srcs, _ := list.Body["sources"].([]any)
	if len(srcs) != 1 {
		t.Fatalf("sources: %s", list.Raw)
	}
	src, _ := srcs[0].(map[string]any)
	settings, _ := src["settings"].(map[string]any)
	if src["schedule"] != "15m" || settings["usersPath"] != users {
		t.Fatalf("the source the browser saved: %v", src)
	}

	b.Navigate(env.URL + "/ui/sources")
	b.WaitText("hr-export")
	b.Screenshot("sources")
}
