package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// TestAppPushRoutes drives an app's push routes with a fake runner over
// the real store: sync (202, its trigger, 409 busy and held, 400 without
// push), the runs and their changes and pending removals, approve and
// reject, the test report, and 404 for what does not exist, including a
// source's run asked for as an app's.
func TestAppPushRoutes(t *testing.T) { forEachAPIStore(t, testAppPushRoutes) }

func testAppPushRoutes(t *testing.T, e *apiEnv) {
	if e.Pushes == nil {
		t.Fatal("the store keeps no push bookkeeping (storage.PushStore)")
	}
	ctx := context.Background()
	admin := e.Admin
	app := e.call(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "crm", "push": goodPush()}).want(t, 201)
	id := app.str("id")
	base := "/api/v1/apps/" + id
	e.call(t, "POST", "/api/v1/apps", admin, map[string]any{"name": "pulled"}).want(t, 201)

	// Starting runs.
	for _, tt := range []struct {
		query string
		want  outbound.Trigger
	}{
		{"", outbound.Trigger{Reason: "manual"}},
		{"?mode=full", outbound.Trigger{Reason: "manual", Full: true}},
		{"?mode=incremental&dryRun=true", outbound.Trigger{Reason: "manual", DryRun: true}},
	} {
		r := e.call(t, "POST", "/api/v1/apps/crm/sync"+tt.query, admin, nil).want(t, 202)
		if r.str("status") != "queued" || r.str("sourceId") != id || r.str("id") == "" {
			t.Errorf("sync%s: %s", tt.query, r.Raw)
		}
		if got := e.Pushes.lastTrigger(); got.Reason != tt.want.Reason || got.Full != tt.want.Full || got.DryRun != tt.want.DryRun {
			t.Errorf("sync%s: trigger %+v, want %+v", tt.query, got, tt.want)
		}
	}
	e.call(t, "POST", base+"/sync?mode=fast", admin, nil).wantErr(t, 400, "bad_request")
	e.call(t, "POST", base+"/sync?dryRun=maybe", admin, nil).wantErr(t, 400, "bad_request")
	e.call(t, "POST", "/api/v1/apps/pulled/sync", admin, nil).wantErr(t, 400, "no_push")
	e.call(t, "POST", "/api/v1/apps/pulled/test", admin, nil).wantErr(t, 400, "no_push")
	e.call(t, "POST", "/api/v1/apps/nope/sync", admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "POST", base+"/sync", e.Reader, nil).wantErr(t, 403, "forbidden")

	e.Pushes.setRunning(id, "run-in-flight")
	if busy := e.call(t, "POST", base+"/sync", admin, nil).wantErr(t, 409, "run_in_progress"); busy["runId"] != "run-in-flight" {
		t.Errorf("busy: %v", busy)
	}
	if g := e.call(t, "GET", base, admin, nil).want(t, 200); g.str("push", "runningRunId") != "run-in-flight" {
		t.Errorf("the app does not show its run in progress: %s", g.Raw)
	}
	if del := e.call(t, "DELETE", base, admin, nil).wantErr(t, 409, "run_in_progress"); del["runId"] != "run-in-flight" {
		t.Errorf("delete while pushing: %v", del)
	}
	e.Pushes.setRunning(id, "")

	runs := e.call(t, "GET", "/api/v1/apps/crm/runs", admin, nil).want(t, 200)
	list, _ := runs.Body["runs"].([]any)
	if len(list) != 3 {
		t.Fatalf("runs: %s", runs.Raw)
	}
	first := list[2].(map[string]any)["id"].(string)
	if one := e.call(t, "GET", "/api/v1/apps/crm/runs?limit=1", admin, nil).want(t, 200); len(one.Body["runs"].([]any)) != 1 {
		t.Errorf("limit=1: %s", one.Raw)
	}
	if r := e.call(t, "GET", base+"/runs/"+first, admin, nil).want(t, 200); r.str("id") != first || r.str("trigger") != "manual" {
		t.Errorf("run: %s", r.Raw)
	}

	// The change log pages as the sources' does.
	changes := []storage.Change{
		{Seq: 1, Action: storage.ChangeCreate, Kind: "User", ResourceID: "u1", Name: "ann", Detail: "POST /Users: 201 target id t1"},
		{Seq: 2, Action: storage.ChangeError, Kind: "User", ResourceID: "u2", Name: "bob", Detail: "POST /Users: HTTP 409 uniqueness"},
	}
	ps := e.Pushes.store
	if err := ps.PushRuns().AddChanges(ctx, first, changes); err != nil {
		t.Fatal(err)
	}
	c := e.call(t, "GET", base+"/runs/"+first+"/changes?offset=1&limit=5", admin, nil).want(t, 200)
	if cl, _ := c.Body["changes"].([]any); c.num("total") != 2 || len(cl) != 1 || !strings.Contains(cl[0].(map[string]any)["detail"].(string), "409") {
		t.Errorf("changes: %s", c.Raw)
	}

	// A held run blocks new ones until it is decided.
	pending := []storage.PendingDeletion{{Kind: "User", ID: "u1", Name: "ann", Action: "deactivate"}, {Kind: "User", ID: "u2", Name: "bob", Action: "delete"}}
	held, err := e.Pushes.holdRun(ctx, id, pending)
	if err != nil {
		t.Fatal(err)
	}
	if h := e.call(t, "POST", base+"/sync", admin, nil).wantErr(t, 409, "run_held"); h["runId"] != held.ID {
		t.Errorf("held: %v", h)
	}
	p := e.call(t, "GET", base+"/runs/"+held.ID+"/pending?limit=1", admin, nil).want(t, 200)
	if pl, _ := p.Body["pending"].([]any); p.num("total") != 2 || len(pl) != 1 {
		t.Errorf("pending: %s", p.Raw)
	}
	if r := e.call(t, "POST", base+"/runs/"+held.ID+"/approve", admin, nil).want(t, 200); r.str("status") != "succeeded" || r.str("decidedBy") != "ops" {
		t.Errorf("approve: %s", r.Raw)
	}
	e.call(t, "POST", base+"/runs/"+held.ID+"/approve", admin, nil).wantErr(t, 409, "not_held")
	held, err = e.Pushes.holdRun(ctx, id, pending)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.call(t, "POST", "/api/v1/apps/crm/runs/"+held.ID+"/reject", admin, nil).want(t, 200); r.str("status") != "rejected" {
		t.Errorf("reject: %s", r.Raw)
	}
	e.call(t, "POST", base+"/sync", admin, nil).want(t, 202)

	// What does not exist, and a source's run asked for as an app's.
	src := e.call(t, "POST", "/api/v1/sources", admin, map[string]any{"name": "hr", "kind": "csv", "enabled": false,
		"settings": map[string]any{"usersPath": e.writeFile(t, "users.csv", usersCSV(0, 1, engineer))}}).want(t, 201)
	srcRun := e.sync(t, src.str("id"), "")
	for _, path := range []string{
		"/api/v1/apps/nope/runs", "/api/v1/apps/nope/runs/" + first, base + "/runs/nope", base + "/runs/nope/changes",
		base + "/runs/nope/pending", base + "/runs/" + srcRun.str("id"),
		"/api/v1/sources/" + src.str("id") + "/runs/" + first,
	} {
		e.call(t, "GET", path, admin, nil).wantErr(t, 404, "not_found")
	}
	e.call(t, "POST", base+"/runs/nope/approve", admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "POST", "/api/v1/apps/nope/runs/"+first+"/reject", admin, nil).wantErr(t, 404, "not_found")

	// The test report is the runner's, 200 even when a check failed.
	rep := e.call(t, "POST", "/api/v1/apps/crm/test", admin, nil).want(t, 200)
	checks, _ := rep.Body["checks"].([]any)
	if rep.Body["ok"] != false || len(checks) != 2 || checks[1].(map[string]any)["name"] != "auth" ||
		!strings.Contains(checks[1].(map[string]any)["detail"].(string), "401") {
		t.Errorf("test: %s", rep.Raw)
	}
	audit := e.call(t, "GET", "/api/v1/audit?limit=100", admin, nil).want(t, 200)
	for _, action := range []string{"app.sync", "app.run.approve", "app.run.reject", "app.test"} {
		if !strings.Contains(string(audit.Raw), `"action":"`+action+`"`) {
			t.Errorf("no %s in the audit log: %s", action, audit.Raw)
		}
	}
}
