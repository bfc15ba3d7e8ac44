package graphtest_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

type resp struct {
	status int
	header http.Header
	body   map[string]any
}

func (r resp) value() []map[string]any {
	list, _ := r.body["value"].([]any)
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

func (r resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func do(t *testing.T, req *http.Request) resp {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, body: map[string]any{}}
	json.Unmarshal(raw, &r.body)
	return r
}

func tokenRequest(em *graphtest.Server, form url.Values, basicUser, basicPass string) *http.Request {
	req, _ := http.NewRequest("POST", em.URL()+"/"+em.TenantID()+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(basicUser, basicPass)
	}
	return req
}

func token(t *testing.T, em *graphtest.Server) string {
	t.Helper()
	r := do(t, tokenRequest(em, url.Values{"grant_type": {"client_credentials"}, "client_id": {em.ClientID()},
		"client_secret": {em.ClientSecret()}, "scope": {em.URL() + "/.default"}}, "", ""))
	if r.status != 200 {
		t.Fatalf("token: %d %v", r.status, r.body)
	}
	return r.body["access_token"].(string)
}

func get(t *testing.T, rawURL, tok string) resp {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return do(t, req)
}

func TestTokenEndpoint(t *testing.T) {
	em := graphtest.New(graphtest.Options{ClientSecret: "a+b/c=d~e"})
	defer em.Close()
	scope := em.URL() + "/.default"
	for _, tc := range []struct {
		name        string
		form        url.Values
		user, pass  string
		status      int
		error       string
		aadsts      float64
		wantExpires bool
	}{
		{name: "secret in form", form: url.Values{"client_secret": {"a+b/c=d~e"}}, status: 200, wantExpires: true},
		{name: "secret in Basic auth, URL-encoded", user: "11111111-1111-4111-8111-111111111111", pass: url.QueryEscape("a+b/c=d~e"), status: 200, wantExpires: true},
		{name: "wrong secret", form: url.Values{"client_secret": {"nope"}}, status: 401, error: "invalid_client", aadsts: 7000215},
		{name: "user scope", form: url.Values{"client_secret": {"a+b/c=d~e"}, "scope": {"User.Read"}}, status: 400, error: "invalid_scope", aadsts: 1002012},
		{name: "unknown client", form: url.Values{"client_secret": {"x"}, "client_id": {"22222222-2222-4222-8222-222222222222"}}, status: 400, error: "unauthorized_client", aadsts: 700016},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
			if tc.user == "" {
				form.Set("client_id", em.ClientID())
			}
			maps.Copy(form, tc.form)
			r := do(t, tokenRequest(em, form, tc.user, tc.pass))
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %v", r.status, tc.status, r.body)
			}
			if tc.wantExpires {
				exp := r.body["expires_in"].(float64)
				if r.body["token_type"] != "Bearer" || exp < 3600 || exp > 5400 {
					t.Errorf("token = %v; lifetime must be 60 to 90 minutes", r.body)
				}
				return
			}
			codes, _ := r.body["error_codes"].([]any)
			if r.body["error"] != tc.error || len(codes) != 1 || codes[0] != tc.aadsts || !strings.HasPrefix(r.body["error_description"].(string), "AADSTS") ||
				r.body["trace_id"] == nil || r.body["correlation_id"] == nil {
				t.Errorf("error body = %v", r.body)
			}
		})
	}
}

func TestReadsAndPaging(t *testing.T) {
	em := graphtest.New(graphtest.Options{Roles: []string{"Directory.Read.All"}})
	defer em.Close()
	em.Seed(graphtest.SeedOptions{Users: 250, Groups: 2})
	tok := token(t, em)
	base := em.URL() + "/v1.0"

	if r := get(t, base+"/users", ""); r.status != 401 || r.errCode() != "InvalidAuthenticationToken" || r.header.Get("request-id") == "" {
		t.Errorf("no token: %d %v", r.status, r.body)
	}
	r := get(t, base+"/users", tok)
	u := r.value()[0]
	if len(r.value()) != 100 || u["userPrincipalName"] == nil || u["businessPhones"] == nil {
		t.Errorf("default page: %d users, first %v", len(r.value()), u)
	}
	if _, ok := u["accountEnabled"]; ok {
		t.Errorf("accountEnabled is not in the default set: %v", u)
	}
	r = get(t, base+"/users?$select=id,accountEnabled,department&$top=200", tok)
	u = r.value()[0]
	if len(r.value()) != 200 || len(u) != 3 || u["accountEnabled"] != true || u["department"] == nil {
		t.Errorf("$select page: %d users, first %v", len(r.value()), u)
	}
	next, _ := r.body["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, em.URL()+"/v1.0/users?") || !strings.Contains(next, "%24skiptoken=") || !strings.Contains(next, "%24top=200") {
		t.Fatalf("nextLink = %q", next)
	}
	if r := get(t, next, tok); len(r.value()) != 50 || r.body["@odata.nextLink"] != nil {
		t.Errorf("last page: %d users, next %v", len(r.value()), r.body["@odata.nextLink"])
	}
	for _, bad := range []string{"0", "1000", "x"} {
		if r := get(t, base+"/users?$top="+bad, tok); r.status != 400 || !strings.Contains(r.body["error"].(map[string]any)["message"].(string), "Must be between 1 and 999 inclusive") {
			t.Errorf("$top=%s: %d %v", bad, r.status, r.body)
		}
	}
	if r := get(t, base+"/users?$select=hireDate", tok); r.status != 501 {
		t.Errorf("hireDate on a collection: %d", r.status)
	}
	if r := get(t, base+"/users?$select=favouriteColour", tok); r.status != 400 || r.errCode() != "Request_BadRequest" {
		t.Errorf("unknown property: %d %v", r.status, r.body)
	}
	if r := get(t, base+"/users?$expand=manager&$top=999", tok); len(r.value()) != 100 || r.value()[1]["manager"] == nil {
		t.Errorf("$expand caps the page at 100: %d", len(r.value()))
	}
	tampered := strings.Replace(next, "skiptoken%3D", "skiptoken%3DX", 1)
	tampered = strings.Replace(tampered, "%24skiptoken=", "%24skiptoken=X", 1)
	if r := get(t, tampered, tok); r.status != 400 {
		t.Errorf("tampered skiptoken: %d", r.status)
	}
	em.SetRoles()
	if r := get(t, base+"/users", token(t, em)); r.status != 403 || r.errCode() != "Authorization_RequestDenied" {
		t.Errorf("no roles: %d %v", r.status, r.body)
	}
}

func TestDeltaRounds(t *testing.T) {
	em := graphtest.New(graphtest.Options{UserPageSize: 2, MemberBudget: 3})
	defer em.Close()
	boss := em.AddUser(graphtest.User{UserPrincipalName: "boss@x"})
	a := em.AddUser(graphtest.User{UserPrincipalName: "a@x", Department: "D", Manager: boss})
	b := em.AddUser(graphtest.User{UserPrincipalName: "b@x"})
	c := em.AddUser(graphtest.User{UserPrincipalName: "c@x"})
	g := em.AddGroup(graphtest.Group{DisplayName: "G", Members: []string{boss, a, b, c}})
	tok := token(t, em)
	base := em.URL() + "/v1.0"

	// walk follows a round to its deltaLink.
	walk := func(start string) ([]map[string]any, string) {
		var all []map[string]any
		for next := start; ; {
			r := get(t, next, tok)
			if r.status != 200 {
				t.Fatalf("GET %s: %d %v", next, r.status, r.body)
			}
			all = append(all, r.value()...)
			n, _ := r.body["@odata.nextLink"].(string)
			d, _ := r.body["@odata.deltaLink"].(string)
			if (n == "") == (d == "") {
				t.Fatalf("a page must have exactly one link: %v", r.body)
			}
			if d != "" {
				return all, d
			}
			next = n
		}
	}
	users, usersLink := walk(base + "/users/delta?$select=userPrincipalName,department,manager")
	if len(users) != 4 {
		t.Fatalf("initial round: %v", users)
	}
	for _, u := range users {
		if u["id"] == a && (u["department"] != "D" || u["manager@delta"] == nil) {
			t.Errorf("a = %v", u)
		}
		if _, ok := u["accountEnabled"]; ok {
			t.Errorf("unselected property returned: %v", u)
		}
	}
	groups, groupsLink := walk(base + "/groups/delta?$select=displayName,members")
	members := 0
	for _, x := range groups {
		if x["id"] != g || x["displayName"] != "G" {
			t.Errorf("group entry = %v", x)
		}
		list, _ := x["members@delta"].([]any)
		members += len(list)
	}
	if len(groups) != 2 || members != 4 {
		t.Errorf("a group of 4 with room for 3 per page: %d entries, %d members", len(groups), members)
	}

	// Nothing changed: an empty page and a new deltaLink.
	users, usersLink = walk(usersLink)
	if len(users) != 0 {
		t.Errorf("no changes, got %v", users)
	}
	em.UpdateUser(b, map[string]any{"department": "E"})
	em.UpdateUser(c, map[string]any{"jobTitle": "not selected"})
	em.DeleteUser(a)
	em.PurgeUser(boss)
	users, _ = walk(usersLink)
	byID := map[any]map[string]any{}
	for _, u := range users {
		byID[u["id"]] = u
	}
	if len(users) != 3 || byID[b]["department"] != "E" || byID[b]["userPrincipalName"] != "b@x" || byID[b]["manager@delta"] != nil {
		t.Errorf("changed users = %v", users)
	}
	if r, _ := byID[a]["@removed"].(map[string]any); r["reason"] != "changed" {
		t.Errorf("soft-deleted = %v", byID[a])
	}
	if r, _ := byID[boss]["@removed"].(map[string]any); r["reason"] != "deleted" {
		t.Errorf("purged = %v", byID[boss])
	}
	groups, _ = walk(groupsLink)
	if len(groups) != 1 {
		t.Fatalf("group changes = %v", groups)
	}
	for _, m := range groups[0]["members@delta"].([]any) {
		if r, _ := m.(map[string]any)["@removed"].(map[string]any); r["reason"] != "deleted" {
			t.Errorf("removed link = %v", m)
		}
	}

	// Query rules of delta.
	if r := get(t, base+"/users/delta?$top=5", tok); r.status != 400 {
		t.Errorf("$top on delta: %d", r.status)
	}
	ids := make([]string, 51)
	for i := range ids {
		ids[i] = "id eq '" + a + "'"
	}
	if r := get(t, base+"/users/delta?$filter="+url.QueryEscape(strings.Join(ids, " or ")), tok); r.status != 400 {
		t.Errorf("51 filtered ids: %d", r.status)
	}
	if r := get(t, base+"/users/delta?$select=birthday", tok); r.status != 400 {
		t.Errorf("birthday on delta: %d", r.status)
	}
	if r := get(t, base+"/users/delta?$deltatoken=latest", tok); len(r.value()) != 0 || r.body["@odata.deltaLink"] == nil {
		t.Errorf("latest: %v", r.body)
	}
}

func TestStaleTokensAndThrottling(t *testing.T) {
	clock := graphtest.NewFakeClock()
	em := graphtest.New(graphtest.Options{Clock: clock.Now})
	defer em.Close()
	em.AddUser(graphtest.User{UserPrincipalName: "a@x"})
	tok := token(t, em)
	r := get(t, em.URL()+"/v1.0/users/delta", tok)
	link := r.body["@odata.deltaLink"].(string)

	em.InvalidateDeltaTokens(graphtest.StaleGone)
	r = get(t, link, tok)
	if r.status != 410 || r.header.Get("Location") != em.URL()+"/v1.0/users/delta?$deltatoken=" {
		t.Errorf("410: %d %q", r.status, r.header.Get("Location"))
	}
	if r := get(t, r.header.Get("Location"), tok); r.status != 200 || len(r.value()) != 1 {
		t.Errorf("the Location starts over: %d %v", r.status, r.body)
	}
	em.InvalidateDeltaTokens(graphtest.StaleNotFound)
	if r := get(t, link, tok); r.status != 400 || r.errCode() != "syncStateNotFound" {
		t.Errorf("syncStateNotFound: %d %v", r.status, r.body)
	}

	em.Throttle(1, 429, 5*time.Second)
	r = get(t, em.URL()+"/v1.0/users", tok)
	e := r.body["error"].(map[string]any)
	inner := e["innerError"].(map[string]any)
	if r.status != 429 || r.header.Get("Retry-After") != "5" || inner["request-id"] != r.header.Get("request-id") {
		t.Errorf("429: %d %v %v", r.status, r.header, r.body)
	}
	get(t, em.URL()+"/v1.0/users", tok) // too soon
	clock.Advance(5 * time.Second)
	get(t, em.URL()+"/v1.0/users", tok) // in time
	if em.EarlyRetries() != 1 {
		t.Errorf("early retries = %d, want 1", em.EarlyRetries())
	}
}
