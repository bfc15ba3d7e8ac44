package api_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/api/console/browsertest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestBrowserConsoleWalkthrough is the console's proof in headless
// Chromium, the way an admin uses it: a wrong token refused, sign-in, a
// csv source added through its form and run, a run held by the deletion
// guard and approved in the page (the API then shows the users
// deactivated), a token created (its secret works once shown) and
// revoked (it no longer does), a form posted without its CSRF value
// refused, and an idle session ended. With SCIMGATE_SCREENSHOTS set it
// takes the README's screenshots.
func TestBrowserConsoleWalkthrough(t *testing.T) {
	b := browsertest.Start(t)
	// The sessions' clock starts at the store's (which stamps the runs the
	// pages show as "5 minutes ago"), and only the test moves it on.
	clock := sourcetest.NewClock(time.Now())
	env := newAPIEnvWith(t, apitest.Options{Console: api.ConsoleOptions{Now: clock.Now}})
	users := env.writeFile(t, "users.csv", usersCSV(1, 6, engineer))

	// A wrong token is refused, and says what to do.
	b.Navigate(env.URL + "/ui/")
	b.WaitText("Sign in to scimgate")
	b.Screenshot("signin")
	b.Fill("Admin token", "sg_0123456789ab_not-the-secret")
	if status := b.Submit("Sign in"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", status)
	}
	b.WaitText("That is not a valid admin token")

	b.Fill("Admin token", bootstrapToken)
	if status := b.Submit("Sign in"); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	b.WaitText("Overview")
	assertSessionCookie(t, b)
	if strings.Contains(b.PageText(), bootstrapToken) {
		t.Fatal("the token is on the page")
	}

	// A csv source through its form, with a guard of one removal.
	b.ClickLink("Sources")
	b.ClickLink("Add source")
	b.ClickLink("Add a csv source")
	b.Fill("Name", "hr")
	b.Fill("usersPath", users)
	b.Fill("Hold a run that removes more than this many users", "1")
	b.Submit("Create source")
	b.WaitText("Created source hr.")
	sourcePage := b.Location() // the new source's page

	b.Submit("Run now")
	b.WaitText("Succeeded")
	if got := b.Text(`[data-count="created"]`); got != "5" {
		t.Fatalf("the run page shows Created %q, want 5", got)
	}
	b.Screenshot("run")

	// Three people leave the file: over the guard, the run is held.
	if err := os.WriteFile(users, []byte(usersCSV(1, 3, engineer)), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Navigate(sourcePage)
	b.Submit("Run now")
	b.WaitText("Held for approval")
	b.WaitText("user5@example.com") // the pending removals, by name
	b.Screenshot("held-run")
	if got := activeUsers(t, env); got != 5 {
		t.Fatalf("%d active users while the run is held, want 5", got)
	}
	b.Submit("Approve")
	b.WaitText("Approved")
	if got := activeUsers(t, env); got != 2 {
		t.Fatalf("%d active users after the approval, want 2", got)
	}
	if len(b.Dialogs()) == 0 {
		t.Fatal("Approve asked for no confirmation")
	}

	env.call(t, "POST", "/api/v1/apps", env.Admin, map[string]any{"name": "crm", "description": "Sales CRM",
		"attributes": []string{"userName", "name", "emails", "active"}}).want(t, 201)
	b.Navigate(env.URL + "/ui/")
	b.WaitText("crm")
	b.Screenshot("overview")
	b.ClickLink("Directory")
	b.WaitText("user1@example.com")
	b.Screenshot("directory")

	// A token: its secret shown once, working, then revoked.
	b.ClickLink("Tokens")
	b.Fill("Name", "ci-reader")
	if status := b.Submit("Create token"); status != http.StatusCreated {
		t.Fatalf("token creation: %d, want 201", status)
	}
	secret := b.Text("#token-secret")
	if !strings.HasPrefix(secret, "sg_") {
		t.Fatalf("the secret shown is %q", secret)
	}
	b.Screenshot("token-created")
	env.call(t, "GET", "/scim/v2/Users?count=1", secret, nil).want(t, 200)
	b.Navigate(env.URL + "/ui/tokens")
	if strings.Contains(b.PageText(), secret) {
		t.Fatal("the token list shows the secret again")
	}
	b.Submit("Revoke ci-reader")
	b.WaitText("ci-reader")
	env.call(t, "GET", "/scim/v2/Users?count=1", secret, nil).want(t, 401)

	// A form without its CSRF value is refused, and nothing happens.
	if _, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector('form.signout input[name=csrf]').remove(); true`)); err != nil {
		t.Fatal(err)
	}
	if status := b.Submit("Sign out"); status != http.StatusForbidden {
		t.Fatalf("sign-out without the CSRF value: %d, want 403", status)
	}
	b.WaitText("Reload the page")
	if status := b.Navigate(env.URL + "/ui/"); status != http.StatusOK {
		t.Fatalf("still signed in after the refused form? %d", status)
	}
	b.WaitText("Overview")

	// An idle session ends.
	clock.Advance(31 * time.Minute)
	b.Navigate(env.URL + "/ui/sources")
	b.WaitText("Your session has ended")
	if !strings.Contains(b.Location(), "/ui/signin") {
		t.Fatalf("an expired session reached %s", b.Location())
	}
}

// browserSignIn signs b in with the bootstrap admin token, through the
// form, for tests about what comes after.
func browserSignIn(t *testing.T, b *browsertest.Browser, env *apiEnv) {
	t.Helper()
	b.Navigate(env.URL + "/ui/signin")
	b.Fill("Admin token", bootstrapToken)
	if status := b.Submit("Sign in"); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	b.WaitText("Overview")
}

// assertSessionCookie checks the session cookie as the browser holds it.
func assertSessionCookie(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	for _, c := range b.Cookies() {
		if c.Name != "scimgate_session" {
			continue
		}
		if !c.HTTPOnly || c.SameSite != "Strict" {
			t.Fatalf("session cookie %+v: want HttpOnly and SameSite=Strict", c)
		}
		return
	}
	t.Fatal("no session cookie in the browser")
}

// activeUsers counts the directory's active users over SCIM.
func activeUsers(t *testing.T, env *apiEnv) int {
	t.Helper()
	r := env.call(t, "GET", "/scim/v2/Users?count=0&filter=active%20eq%20true", env.Reader, nil).want(t, 200)
	return int(r.num("totalResults"))
}
