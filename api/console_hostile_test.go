package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleHostilePaths: ids no object has, path tricks and markup in
// a page's address get a page that says so (404 or 400), never a 500,
// never another object's page, and never the markup unescaped.
func TestConsoleHostilePaths(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	ids := []string{"nope", "%2e%2e", "..%2F..%2Ftokens", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "a%00b", strings.Repeat("x", 5000)}
	pages := []string{"/ui/sources/%s", "/ui/sources/%s/edit", "/ui/sources/%s/runs", "/ui/sources/%s/runs/%s",
		"/ui/apps/%s", "/ui/apps/%s/push", "/ui/apps/%s/push/runs/%s", "/ui/directory/users/%s", "/ui/directory/groups/%s"}
	for _, pg := range pages {
		for _, id := range ids {
			path := strings.ReplaceAll(pg, "%s", id)
			p := u.get(t, path)
			if p.Status != http.StatusNotFound && p.Status != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 404 or 400", path, p.Status)
			}
			if strings.Contains(p.Body, "<script>alert(1)") {
				t.Errorf("GET %s: the markup came back unescaped", path)
			}
		}
	}
	for _, q := range []string{"/ui/directory?filter=" + url.QueryEscape(`userName eq`), "/ui/directory?q=" + url.QueryEscape(`") or (userName pr`),
		"/ui/directory?start=-5", "/ui/directory?start=99999999999999999999", "/ui/audit?from=yesterday", "/ui/audit?before=-1"} {
		if p := u.get(t, q); p.Status >= 500 {
			t.Errorf("GET %s: %d", q, p.Status)
		}
	}
}
