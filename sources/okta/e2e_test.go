package okta_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/apitest"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
)

// e2e is scimgate serving the config API and /scim/v2 over a SQLite file,
// with the okta kind pointed at an emulated org.
type e2e struct {
	t      *testing.T
	url    string
	runner *engine.Runner
	admin  string
	reader string
	client *http.Client
}

func newE2E(t *testing.T, org *oktatest.Server) *e2e {
	t.Helper()
	kinds := sources.Registry{"okta": okta.Kind()}
	base := apitest.New(t, kinds, apitest.Options{Runner: engine.RunnerOptions{Env: orgEnv(org)}})
	e := &e2e{t: t, url: base.URL, runner: base.Runner, client: base.Client, admin: base.Admin, reader: base.Reader}
	return e
}

// call sends a JSON request and decodes the JSON answer.
func (e *e2e) call(method, path, token string, body any, want int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	return out
}

// sync starts a run and waits for it to finish or be held.
func (e *e2e) sync(id string) map[string]any {
	e.t.Helper()
	run := e.call("POST", "/api/v1/sources/"+id+"/sync", e.admin, nil, 202)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := e.call("GET", "/api/v1/sources/"+id+"/runs/"+run["id"].(string), e.admin, nil, 200)
		if _, busy := e.runner.Running(id); !busy && r["status"] != "queued" && r["status"] != "running" {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("run %v did not finish", run["id"])
	return nil
}

// scim lists a SCIM resource type with a filter, by userName or displayName.
func (e *e2e) scim(kind, filter string) map[string]map[string]any {
	e.t.Helper()
	body := e.call("GET", "/scim/v2/"+kind+"?count=100&filter="+url.QueryEscape(filter), e.reader, nil, 200)
	out := map[string]map[string]any{}
	list, _ := body["Resources"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		name, _ := m["userName"].(string)
		if name == "" {
			name, _ = m["displayName"].(string)
		}
		out[name] = m
	}
	return out
}

func memberIDs(g map[string]any) []string {
	var out []string
	list, _ := g["members"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["value"].(string))
	}
	slices.Sort(out)
	return out
}

func counts(run map[string]any) string {
	c, _ := run["counts"].(map[string]any)
	return fmt.Sprintf("created=%v updated=%v unchanged=%v deactivated=%v deleted=%v pending=%v errors=%v",
		c["created"], c["updated"], c["unchanged"], c["deactivated"], c["deleted"], c["pending"], c["errors"])
}

func TestEndToEndThroughTheConfigAPI(t *testing.T) {
	org := newOrg(t, oktatest.Options{})
	boss := org.AddUser(person(1))
	var staff []string
	for i := 2; i <= 5; i++ {
		staff = append(staff, org.AddUser(person(i, "managerId", boss)))
	}
	eng := org.AddGroup(oktatest.GroupSpec{Name: "Engineering"})
	sales := org.AddGroup(oktatest.GroupSpec{Name: "Sales"})
	org.AddGroup(oktatest.GroupSpec{Name: "Everyone", Type: "BUILT_IN"})
	for _, u := range []string{boss, staff[0], staff[1]} {
		org.AddMember(eng, u)
	}
	org.AddMember(sales, staff[2])
	later(org, time.Hour)
	e := newE2E(t, org)

	src := e.call("POST", "/api/v1/sources", e.admin, map[string]any{
		"name": "okta", "kind": "okta", "enabled": true,
		"settings": map[string]any{"orgURL": org.URL, "apiToken": testToken},
		"deletion": map[string]any{"policy": "delete", "maxPercent": 10},
	}, 201)
	id := src["id"].(string)
	if raw, _ := json.Marshal(src); strings.Contains(string(raw), testToken) {
		t.Fatalf("the API token is echoed back: %s", raw)
	}
	if r := e.call("POST", "/api/v1/sources/"+id+"/test", e.admin, nil, 200); r["ok"] != true {
		t.Fatalf("test connection: %v", r)
	}

	// Full run: five users and two groups (Everyone is BUILT_IN, left out).
	run := e.sync(id)
	if run["status"] != "succeeded" || run["mode"] != "full" || counts(run) != "created=7 updated=0 unchanged=0 deactivated=0 deleted=0 pending=0 errors=0" {
		t.Fatalf("first run: %v %v %s %v", run["status"], run["mode"], counts(run), run["error"])
	}
	users := e.scim("Users", `userName sw "user"`)
	u2, u1 := users["user2@example.com"], users["user1@example.com"]
	ent, _ := u2["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	mgr, _ := ent["manager"].(map[string]any)
	name, _ := u2["name"].(map[string]any)
	if len(users) != 5 || u2["externalId"] != staff[0] || u2["active"] != true || u2["title"] != "Engineer" || name["givenName"] != "Given2" ||
		ent["department"] != "R&D" || ent["employeeNumber"] != "E00002" || mgr["value"] != u1["id"] {
		t.Fatalf("user2 over SCIM: %v", u2)
	}
	groups := e.scim("Groups", `displayName pr`)
	if len(groups) != 2 || groups["Engineering"]["externalId"] != eng ||
		!slices.Equal(memberIDs(groups["Engineering"]), sortedIDs(u1, u2, users["user3@example.com"])) {
		t.Fatalf("groups over SCIM: %v", groups)
	}

	// A delta: a title, a deactivation, and a move between groups that
	// touches no user.
	later(org, 10*time.Minute)
	org.UpdateUser(staff[0], map[string]any{"title": "Staff Engineer"})
	org.DeleteUser(staff[3]) // deactivated: user5
	org.RemoveMember(eng, staff[1])
	org.AddMember(sales, staff[1])
	run = e.sync(id)
	if run["status"] != "succeeded" || run["mode"] != "incremental" {
		t.Fatalf("delta run: %v %v %v", run["status"], run["mode"], run["error"])
	}
	users = e.scim("Users", `userName sw "user"`)
	groups = e.scim("Groups", `displayName pr`)
	if users["user2@example.com"]["title"] != "Staff Engineer" || users["user5@example.com"]["active"] != false ||
		!slices.Equal(memberIDs(groups["Sales"]), sortedIDs(users["user3@example.com"], users["user4@example.com"])) ||
		len(memberIDs(groups["Engineering"])) != 2 {
		t.Fatalf("after the delta: users %v groups %v", users, groups)
	}

	// A run that fails halfway changes nothing for the next one.
	later(org, time.Minute)
	org.FailAfter(1)
	if run = e.sync(id); run["status"] != "failed" || !strings.Contains(fmt.Sprint(run["error"]), "E0000009") {
		t.Fatalf("interrupted run: %v %v", run["status"], run["error"])
	}
	org.FailAfter(-1)

	// user5 deleted for good: only the daily full reconcile sees it, and
	// removing 1 of 7 objects (14%) passes the 10% guard, so the run waits
	// for an admin.
	org.DeleteUser(staff[3])
	later(org, 24*time.Hour)
	run = e.sync(id)
	if run["status"] != "held" || run["mode"] != "full" || !strings.Contains(counts(run), "pending=1") {
		t.Fatalf("reconcile run: %v %v %s %v", run["status"], run["mode"], counts(run), run["notes"])
	}
	if len(e.scim("Users", `userName eq "user5@example.com"`)) != 1 {
		t.Fatal("a held run must not delete yet")
	}
	e.call("POST", "/api/v1/sources/"+id+"/runs/"+run["id"].(string)+"/approve", e.admin, nil, 200)
	if got := e.scim("Users", `userName eq "user5@example.com"`); len(got) != 0 {
		t.Errorf("user5 after approval: %v", got)
	}

	// With the reconcile saved, the next run is a delta again.
	later(org, time.Minute)
	if run = e.sync(id); run["status"] != "succeeded" || run["mode"] != "incremental" {
		t.Errorf("after the reconcile: %v %v %v", run["status"], run["mode"], run["error"])
	}
}

func sortedIDs(users ...map[string]any) []string {
	var out []string
	for _, u := range users {
		out = append(out, u["id"].(string))
	}
	slices.Sort(out)
	return out
}
