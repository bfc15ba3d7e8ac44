package targettest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound/targettest"
)

const token = "tok"

// call sends one request with the right token and returns the status
// and the decoded body (nil when there is none).
func call(t *testing.T, tgt *targettest.Target, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, tgt.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := tgt.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, doc
}

func patchBody(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

func ids(doc map[string]any) []string {
	var out []string
	rs, _ := doc["Resources"].([]any)
	for _, r := range rs {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func TestAuth(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token})
	resp, err := tgt.Client().Get(tgt.URL() + "/Users")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401", resp.StatusCode)
	}
	if st, _ := call(t, tgt, "GET", "/Users", ""); st != http.StatusOK {
		t.Fatalf("with the token: %d", st)
	}
	if st, doc := call(t, tgt, "POST", "/Users", `{"userName":"no-schemas"}`); st != http.StatusBadRequest || doc["scimType"] != "invalidSyntax" {
		t.Fatalf("a body without schemas: %d %v, want 400 invalidSyntax", st, doc)
	}
}

func TestUsersAndFilters(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token})
	st, ann := call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Ann@Example.com","externalId":"E-1","emails":[{"value":"ann@example.com","type":"work"}]}`)
	if st != http.StatusCreated || ann["id"] == "" || ann["meta"].(map[string]any)["location"] == "" {
		t.Fatalf("create: %d %v", st, ann)
	}
	annID := ann["id"].(string)
	st, dup := call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com"}`)
	if st != http.StatusConflict || dup["scimType"] != "uniqueness" || dup["status"] != "409" {
		t.Fatalf("duplicate userName in another case: %d %v", st, dup)
	}
	call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bob@example.com","externalId":"e-1"}`)
	cases := []struct {
		filter string
		status int
		want   []string
	}{
		{`userName eq "ANN@example.COM"`, 200, []string{annID}},
		{`USERNAME EQ "ann@example.com"`, 200, []string{annID}},
		{`externalId eq "E-1"`, 200, []string{annID}},
		{`emails.value eq "ANN@EXAMPLE.COM"`, 200, []string{annID}},
		{`userName eq "nobody"`, 200, nil},
		{`userName co "ann"`, 400, nil},
		{`title eq "x"`, 400, nil},
		{`userName eq "a" and active eq true`, 400, nil},
	}
	for _, tc := range cases {
		st, doc := call(t, tgt, "GET", "/Users?filter="+urlEscape(tc.filter), "")
		if st != tc.status {
			t.Errorf("filter %s: %d %v, want %d", tc.filter, st, doc, tc.status)
			continue
		}
		if st == 200 && !slices.Equal(ids(doc), tc.want) {
			t.Errorf("filter %s = %v, want %v", tc.filter, ids(doc), tc.want)
		}
		if st == 400 && doc["scimType"] != "invalidFilter" {
			t.Errorf("filter %s: scimType %v, want invalidFilter", tc.filter, doc["scimType"])
		}
	}
}

func urlEscape(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "&", "%26")
	return r.Replace(s)
}

func TestPaging(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token, MaxResults: 3})
	var all []string
	for i := range 7 {
		all = append(all, tgt.AddUser(t, map[string]any{"userName": fmt.Sprintf("u%d", i)}))
	}
	_, p := call(t, tgt, "GET", "/Users?startIndex=3&count=10", "")
	if !slices.Equal(ids(p), all[2:5]) || p["totalResults"] != float64(7) || p["startIndex"] != float64(3) {
		t.Fatalf("index page = %v", p)
	}
	var got []string
	q := "?cursor&count=3"
	for range 5 {
		_, p := call(t, tgt, "GET", "/Users"+q, "")
		got = append(got, ids(p)...)
		next, ok := p["nextCursor"].(string)
		if !ok {
			break
		}
		q = "?cursor=" + next + "&count=3"
	}
	if !slices.Equal(got, all) {
		t.Fatalf("cursor pages = %v, want %v", got, all)
	}
}

func TestPatch(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token})
	a := tgt.AddUser(t, map[string]any{"userName": "a", "emails": []any{map[string]any{"value": "a@old.example", "type": "work"}}})
	b := tgt.AddUser(t, map[string]any{"userName": "b"})
	c := tgt.AddUser(t, map[string]any{"userName": "c"})
	g := tgt.AddGroup(t, map[string]any{"displayName": "G", "members": []any{map[string]any{"value": a}}})
	cases := []struct {
		name    string
		path    string
		body    string
		status  int
		members []string // the group's members afterwards (nil: not checked)
		check   func(t *testing.T)
	}{
		{"add members", "/Groups/" + g, patchBody(`{"op":"add","path":"members","value":[{"value":"` + b + `"},{"value":"` + c + `"},{"value":"` + a + `"}]}`), 200, []string{a, b, c}, nil},
		{"remove by filter", "/Groups/" + g, patchBody(`{"op":"remove","path":"members[value eq \"` + a + `\"]"}`), 200, []string{b, c}, nil},
		{"remove with a value list", "/Groups/" + g, patchBody(`{"op":"Remove","path":"members","value":[{"value":"` + b + `"}]}`), 200, []string{c}, nil},
		{"unknown member", "/Groups/" + g, patchBody(`{"op":"add","path":"members","value":[{"value":"nope"}]}`), 400, []string{c}, nil},
		{"atomic", "/Groups/" + g, patchBody(`{"op":"replace","path":"displayName","value":"H"}`, `{"op":"bogus","path":"x"}`), 400, []string{c}, func(t *testing.T) {
			if _, ok := tgt.GroupByName("H"); ok {
				t.Error("a failed PATCH applied its first operation")
			}
		}},
		{"path-less replace", "/Users/" + a, patchBody(`{"op":"replace","value":{"displayName":"Ann","active":false}}`), 200, nil, func(t *testing.T) {
			u, _ := tgt.UserByName("a")
			if u.Str("displayName") != "Ann" || u["active"] != false {
				t.Errorf("user = %v", u)
			}
		}},
		{"value path", "/Users/" + a, patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@new.example"}`), 200, nil, func(t *testing.T) {
			u, _ := tgt.UserByName("a")
			if got := u["emails"].([]any)[0].(map[string]any)["value"]; got != "a@new.example" {
				t.Errorf("email = %v", got)
			}
		}},
		{"extension path", "/Users/" + a, patchBody(`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"}`), 200, nil, func(t *testing.T) {
			u, _ := tgt.UserByName("a")
			if ext, _ := u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any); ext["department"] != "R&D" {
				t.Errorf("user = %v", u)
			}
		}},
		{"rename to a taken userName", "/Users/" + a, patchBody(`{"op":"replace","path":"userName","value":"B"}`), 409, nil, nil},
		{"not a PatchOp", "/Users/" + a, `{"Operations":[]}`, 400, nil, nil},
		{"missing resource", "/Users/nope", patchBody(`{"op":"replace","path":"active","value":true}`), 404, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, doc := call(t, tgt, "PATCH", tc.path, tc.body)
			if st != tc.status {
				t.Fatalf("status %d %v, want %d", st, doc, tc.status)
			}
			if tc.members != nil {
				grp, _ := tgt.GroupByName("G")
				if !slices.Equal(grp.MemberIDs(), tc.members) {
					t.Fatalf("members = %v, want %v", grp.MemberIDs(), tc.members)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
	// A deleted user leaves its groups.
	if st, _ := call(t, tgt, "DELETE", "/Users/"+c, ""); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if grp, _ := tgt.GroupByName("G"); len(grp.MemberIDs()) != 0 {
		t.Fatalf("members after the delete = %v", grp.MemberIDs())
	}
	if st, _ := call(t, tgt, "DELETE", "/Users/"+c, ""); st != http.StatusNotFound {
		t.Fatalf("second delete: %d, want 404", st)
	}
}

func TestAWSLimits(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token, AWS: true, HideGroupMembers: true})
	var users []string
	for i := range 101 {
		users = append(users, tgt.AddUser(t, map[string]any{"userName": fmt.Sprintf("u%d", i)}))
	}
	g := tgt.AddGroup(t, map[string]any{"displayName": "G"})
	members := func(ids []string) string {
		var ms []string
		for _, id := range ids {
			ms = append(ms, `{"value":"`+id+`"}`)
		}
		return "[" + strings.Join(ms, ",") + "]"
	}
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"101 member changes", "PATCH", "/Groups/" + g, patchBody(`{"op":"add","path":"members","value":` + members(users) + `}`), 400},
		{"100 member changes", "PATCH", "/Groups/" + g, patchBody(`{"op":"add","path":"members","value":` + members(users[:100]) + `}`), 204},
		{"replace of members", "PATCH", "/Groups/" + g, patchBody(`{"op":"replace","path":"members","value":` + members(users[:1]) + `}`), 400},
		{"remove of all members", "PATCH", "/Groups/" + g, patchBody(`{"op":"remove","path":"members"}`), 400},
		{"path-less replace of two attributes", "PATCH", "/Users/" + users[0], patchBody(`{"op":"replace","value":{"displayName":"A","title":"T"}}`), 400},
		{"path-less replace of one attribute", "PATCH", "/Users/" + users[0], patchBody(`{"op":"replace","value":{"id":"` + users[0] + `","displayName":"A"}}`), 204},
		{"users by displayName", "GET", "/Users?filter=" + urlEscape(`displayName eq "A"`), "", 400},
		{"groups by displayName", "GET", "/Groups?filter=" + urlEscape(`displayName eq "G"`), "", 200},
		{"group name taken", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`, 409},
		{"create with 101 members", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Big","members":` + members(users) + `}`, 400},
		{"PUT of a group", "PUT", "/Groups/" + g, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G2"}`, 400},
		{"PUT of a user", "PUT", "/Users/" + users[0], `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u0","displayName":"A"}`, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if st, doc := call(t, tgt, tc.method, tc.path, tc.body); st != tc.status {
				t.Fatalf("status %d %v, want %d", st, doc, tc.status)
			}
		})
	}
	if grp, _ := tgt.GroupByName("G"); len(grp.MemberIDs()) != 100 {
		t.Fatalf("the target holds %d members, want 100", len(grp.MemberIDs()))
	}
	if _, doc := call(t, tgt, "GET", "/Groups/"+g, ""); len(doc["members"].([]any)) != 0 {
		t.Fatalf("GET group shows members %v; AWS answers an empty list", doc["members"])
	}
	// startIndex is not supported: every index page is the first.
	_, p1 := call(t, tgt, "GET", "/Users?startIndex=1&count=5", "")
	_, p2 := call(t, tgt, "GET", "/Users?startIndex=6&count=5", "")
	if !slices.Equal(ids(p1), ids(p2)) {
		t.Fatalf("startIndex paged: %v then %v", ids(p1), ids(p2))
	}
}

func TestNoPatch(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token, NoPatch: true})
	_, spc := call(t, tgt, "GET", "/ServiceProviderConfig", "")
	if spc["patch"].(map[string]any)["supported"] != false {
		t.Fatalf("SPC = %v", spc)
	}
	u := tgt.AddUser(t, map[string]any{"userName": "a"})
	if st, _ := call(t, tgt, "PATCH", "/Users/"+u, patchBody(`{"op":"replace","path":"active","value":false}`)); st != http.StatusNotImplemented {
		t.Fatalf("PATCH: %d, want 501", st)
	}
	if st, doc := call(t, tgt, "PUT", "/Users/"+u, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":false}`); st != 200 || doc["active"] != false {
		t.Fatalf("PUT: %d %v", st, doc)
	}
}

func TestFaults(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token})
	tgt.Inject(targettest.Fault{Times: 1, Status: 503, RetryAfter: "2", Method: "POST"})
	tgt.Fail5xx(1)
	if st, _ := call(t, tgt, "GET", "/Users", ""); st != 500 {
		t.Fatalf("first GET: %d, want the injected 500", st)
	}
	if st, _ := call(t, tgt, "GET", "/Users", ""); st != 200 {
		t.Fatalf("second GET: %d", st)
	}
	if st, _ := call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a"}`); st != 503 || len(tgt.Users()) != 0 {
		t.Fatalf("POST with the 503 fault: %d, users %v", st, tgt.Users())
	}
	tgt.LoseCreateResponses(1)
	req, _ := http.NewRequest("POST", tgt.URL()+"/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"lost"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := tgt.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a lost answer arrived: %d", resp.StatusCode)
	}
	if _, ok := tgt.UserByName("lost"); !ok {
		t.Fatal("the create whose answer was lost was not applied")
	}
	if st, _ := call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kept"}`); st != 201 {
		t.Fatalf("the next create: %d", st)
	}
	reqs := tgt.Requests()
	if last := reqs[len(reqs)-2]; last.Method != "POST" || last.Status != 0 || !strings.Contains(last.Body, "lost") {
		t.Fatalf("the log shows the lost create as %+v", last)
	}
}

func TestConcurrentCreates(t *testing.T) {
	tgt := targettest.New(t, targettest.Options{Token: token})
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two writers per name: exactly one of each pair wins.
			statuses[i], _ = call(t, tgt, "POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d"}`, i/2))
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == 201 {
			created++
		}
	}
	if created != 10 || len(tgt.Users()) != 10 || tgt.Count("POST", "/Users") != 20 {
		t.Fatalf("created %d, users %d, posts %d", created, len(tgt.Users()), tgt.Count("POST", "/Users"))
	}
}

func TestFailAfter(t *testing.T) {
	for _, status := range []int{0, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			tgt := targettest.New(t, targettest.Options{Token: token})
			tgt.FailAfter(2, status)
			for i := range 2 {
				if st, _ := call(t, tgt, "POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%d"}`, i)); st != 201 {
					t.Fatalf("request %d before the target goes down: %d", i, st)
				}
			}
			req, _ := http.NewRequest("POST", tgt.URL()+"/Users", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late"}`))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := tgt.Client().Do(req)
			switch {
			case status == 0 && err == nil:
				resp.Body.Close()
				t.Fatalf("a dropped connection answered %d", resp.StatusCode)
			case status != 0 && (err != nil || resp.StatusCode != status):
				t.Fatalf("down target: %v %v, want %d", resp, err, status)
			}
			if err == nil {
				resp.Body.Close()
			}
			if _, ok := tgt.UserByName("late"); ok || len(tgt.Users()) != 2 {
				t.Fatalf("a request to a down target was applied: %v", tgt.Users())
			}
			tgt.ResetFaults()
			if st, _ := call(t, tgt, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late"}`); st != 201 {
				t.Fatalf("after ResetFaults: %d", st)
			}
		})
	}
}
