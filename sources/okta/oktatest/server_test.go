package oktatest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/okta/oktatest"
)

// get sends an SSWS-authenticated GET and decodes a JSON array or object.
func get(t *testing.T, srv *oktatest.Server, path string, query url.Values) (*http.Response, any) {
	t.Helper()
	u := srv.URL + path
	if query != nil {
		u += "?" + query.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "SSWS tok")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body any
	json.NewDecoder(res.Body).Decode(&body)
	return res, body
}

func ids(body any) []string {
	var out []string
	list, _ := body.([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestUserListing(t *testing.T) {
	srv := oktatest.New(t, oktatest.Options{})
	srv.AddAPIToken("tok", true)
	active := srv.AddUser(oktatest.UserSpec{Login: "a@example.com"})
	gone := srv.AddUser(oktatest.UserSpec{Login: "b@example.com", Status: "DEPROVISIONED"})
	cases := []struct {
		name   string
		query  url.Values
		status int
		want   []string
		cause  string
	}{
		{"plain list hides DEPROVISIONED", nil, 200, []string{active}, ""},
		{"a filter shows them", url.Values{"filter": {`lastUpdated gt "2000-01-01T00:00:00.000Z"`}}, 200, []string{active, gone}, ""},
		{"status filter", url.Values{"filter": {`status eq "DEPROVISIONED"`}}, 200, []string{gone}, ""},
		{"or and parentheses", url.Values{"filter": {`(status eq "ACTIVE" or status eq "DEPROVISIONED") and lastUpdated lt "2030-01-01T00:00:00.000Z"`}}, 200, []string{active, gone}, ""},
		{"operators are case-insensitive", url.Values{"filter": {`profile.login EQ "a@example.com"`}}, 200, []string{active}, ""},
		{"ne is not supported", url.Values{"filter": {`status ne "ACTIVE"`}}, 400, nil, "ne operator"},
		{"not is not supported", url.Values{"filter": {`not status eq "ACTIVE"`}}, 400, nil, "not operator"},
		{"gt only on timestamps", url.Values{"filter": {`status gt "A"`}}, 400, nil, "only supported on timestamps"},
		{"unknown property", url.Values{"filter": {`profile.department eq "R&D"`}}, 400, nil, "not a filterable property"},
		{"property names are case-sensitive", url.Values{"filter": {`Status eq "ACTIVE"`}}, 400, nil, "not a filterable property"},
		{"forged cursor", url.Values{"after": {active}}, 400, nil, "cursor is not valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := get(t, srv, "/api/v1/users", c.query)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, body %v", res.StatusCode, body)
			}
			if c.status == 200 && strings.Join(ids(body), ",") != strings.Join(c.want, ",") {
				t.Errorf("ids = %v, want %v", ids(body), c.want)
			}
			if c.cause != "" {
				b, _ := json.Marshal(body)
				if !strings.Contains(string(b), c.cause) {
					t.Errorf("body %s, want %q", b, c.cause)
				}
			}
		})
	}
}

func TestPagingRateLimitsAndDeletion(t *testing.T) {
	srv := oktatest.New(t, oktatest.Options{RateLimits: map[string]int{"users": 2}})
	srv.AddAPIToken("tok", true)
	var made []string
	for range 3 {
		made = append(made, srv.AddUser(oktatest.UserSpec{Login: "x@example.com"}))
	}
	res, body := get(t, srv, "/api/v1/users", url.Values{"limit": {"2"}})
	links := res.Header.Values("Link")
	if len(links) != 2 || !strings.HasSuffix(links[0], `rel="self"`) || !strings.HasSuffix(links[1], `rel="next"`) || len(ids(body)) != 2 {
		t.Fatalf("links %q, ids %v", links, ids(body))
	}
	next := strings.TrimSuffix(strings.TrimPrefix(links[1], "<"), `>; rel="next"`)
	u, _ := url.Parse(next)
	if after := u.Query().Get("after"); after == "" || strings.Contains(after, made[1]) {
		t.Errorf("after = %q: want an opaque cursor, not an id", after)
	}
	if res.Header.Get("X-Rate-Limit-Limit") != "2" || res.Header.Get("X-Rate-Limit-Remaining") != "1" || res.Header.Get("X-Rate-Limit-Reset") != "1767603660" ||
		res.Header.Get("Date") != "Mon, 05 Jan 2026 09:00:00 GMT" {
		t.Errorf("headers = %v", res.Header)
	}
	res, body = get(t, srv, u.Path, u.Query())
	if len(ids(body)) != 1 || ids(body)[0] != made[2] || len(res.Header.Values("Link")) != 1 {
		t.Errorf("last page: ids %v, links %q", ids(body), res.Header.Values("Link"))
	}
	res, body = get(t, srv, "/api/v1/users", nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "" || res.Header.Get("X-Rate-Limit-Remaining") != "0" ||
		body.(map[string]any)["errorCode"] != "E0000047" {
		t.Errorf("over budget: %d %v %v", res.StatusCode, res.Header, body)
	}
	if st := srv.Stats(); st.OverBudget != 1 || st.Requests != 3 {
		t.Errorf("stats = %+v", st)
	}

	srv.Clock().Advance(60e9)
	if gone, _ := srv.DeleteUser(made[0]); gone {
		t.Fatal("first delete must deactivate")
	}
	if gone, _ := srv.DeleteUser(made[0]); !gone {
		t.Fatal("second delete must remove")
	}
	res, body = get(t, srv, "/api/v1/users/"+made[0], nil)
	if res.StatusCode != 404 || body.(map[string]any)["errorCode"] != "E0000007" {
		t.Errorf("deleted user: %d %v", res.StatusCode, body)
	}
}
