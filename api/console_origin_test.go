package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleFormOrigin sends a console form as browsers do under the
// console's Referrer-Policy: no-referrer, where Chromium sends
// "Origin: null" for the console's own forms and Sec-Fetch-Site says
// whose form it was.
func TestConsoleFormOrigin(t *testing.T) {
	env := newAPIEnv(t)
	cases := []struct {
		name, origin, fetchSite string
		want                    int
	}{
		{"this origin", env.URL, "", http.StatusSeeOther},
		{"no origin", "", "", http.StatusSeeOther},
		{"null origin from this site", "null", "same-origin", http.StatusSeeOther},
		{"null origin from another site", "null", "cross-site", http.StatusForbidden},
		{"null origin, nothing said", "null", "", http.StatusForbidden},
		{"another origin", "https://evil.example", "same-origin", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := newConsoleUser(t, env)
			u.get(t, "/ui/signin")
			form := url.Values{"token": {bootstrapToken}, "csrf": {u.csrf}}
			req, err := http.NewRequest(http.MethodPost, env.URL+"/ui/signin", strings.NewReader(form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.fetchSite != "" {
				req.Header.Set("Sec-Fetch-Site", tc.fetchSite)
			}
			if p := u.do(t, req); p.Status != tc.want {
				t.Fatalf("sign-in answered %d, want %d: %s", p.Status, tc.want, p.Body)
			}
		})
	}
}
