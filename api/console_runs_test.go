package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// countCell is how a run page shows one count: its name and its value.
func countCell(name, key string, value int) string {
	return `<th scope="row">` + name + `</th><td data-count="` + key + `">` + strconv.Itoa(value) + `</td>`
}

// diffRow matches a before/after table's row of attribute path.
func diffRow(path, before, after, change string) *regexp.Regexp {
	return regexp.MustCompile(`<code>` + regexp.QuoteMeta(path) + `</code></th>\s*<td>` + regexp.QuoteMeta(before) +
		`</td>\s*<td>` + regexp.QuoteMeta(after) + `</td>\s*<td>` + regexp.QuoteMeta(change) + `</td>`)
}

func (p uiPage) wantMatch(t *testing.T, res ...*regexp.Regexp) uiPage {
	t.Helper()
	for _, re := range res {
		if !re.MatchString(p.Body) {
			t.Fatalf("page does not match %s:\n%s", re, p.Body)
		}
	}
	return p
}

// follow loads the page a form's redirect names.
func (u *consoleUser) follow(t *testing.T, p uiPage) uiPage {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Location == "" {
		t.Fatalf("want a 303 redirect, got %d to %q: %s", p.Status, p.Location, p.Body)
	}
	return u.get(t, p.Location)
}

// TestConsoleSourceRuns follows a csv source through its run pages: a
// first run's counts, an update's before and after, a held run's pending
// removals, then Approve (the users are deactivated through the API) and,
// on the next held run, Reject.
func TestConsoleSourceRuns(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 10, engineer))
	groups := e.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,1;2;3\n")
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr-export", "kind": "csv", "settings": map[string]any{"usersPath": users, "groupsPath": groups},
		"deletion": map[string]any{"policy": "deactivate", "maxPercent": 20},
	}).want(t, 201).str("id")
	base := "/ui/sources/" + id + "/runs"
	u := signedIn(t, e)

	first := e.sync(t, id, "").str("id")
	u.get(t, base).want(t, http.StatusOK, "Sync runs of hr-export", `href="`+base+"/"+first+`"`, "Succeeded", "11 fetched, 11 created")
	u.get(t, base+"/"+first).want(t, http.StatusOK, "Succeeded", "manual", "full",
		countCell("Fetched", "fetched", 11), countCell("Created", "created", 11), countCell("Updated", "updated", 0),
		countCell("Deactivated", "deactivated", 0), countCell("Pending", "pending", 0), "Changes 1–11 of 11")

	// An update shows its before and after, attribute by attribute.
	e.writeFile(t, "users.csv", usersCSV(0, 10, func(i int) string {
		if i == 5 {
			return "Staff Engineer"
		}
		return "Engineer"
	}))
	second := e.sync(t, id, "").str("id")
	u5 := e.scimUsers(t, `userName eq "user5@example.com"`)["user5@example.com"]
	page := u.get(t, base+"/"+second).want(t, http.StatusOK, countCell("Updated", "updated", 1), countCell("Unchanged", "unchanged", 10),
		`Updated: User <a href="/ui/directory/users/`+u5["id"].(string)+`">user5@example.com</a>`, `class="side-by-side"`, "1 of ")
	page.wantMatch(t, diffRow("title", "Engineer", "Staff Engineer", "<strong>changed</strong>"),
		diffRow("userName", "user5@example.com", "user5@example.com", "same"))
	if strings.Contains(page.Body, "data-run-progress") || strings.Contains(page.Body, "runs.js") {
		t.Error("a finished run's page still polls for progress")
	}

	// Three of eleven users gone: over 20%, the run is held.
	e.writeFile(t, "users.csv", usersCSV(0, 7, engineer))
	held := e.sync(t, id, "")
	if held.str("status") != "held" {
		t.Fatalf("want a held run: %s", held.Raw)
	}
	heldPage := base + "/" + held.str("id")
	u.get(t, heldPage).want(t, http.StatusOK, "Held for approval", "Pending removals", "Removals 1–3 of 3",
		"user9@example.com", "<td>Deactivate</td>", countCell("Pending", "pending", 3),
		`<button type="submit" data-confirm="Apply these 3 removals now?">Approve</button>`, ">Reject</button>")
	if n := len(e.scimUsers(t, `active eq false`)); n != 0 {
		t.Fatalf("a held run deactivated %d users", n)
	}
	done := u.follow(t, u.post(t, heldPage+"/approve", nil))
	done.want(t, http.StatusOK, "Approved: 3 users deactivated.", "Succeeded", "Decided by", countCell("Deactivated", "deactivated", 3))
	if strings.Contains(done.Body, ">Approve</button>") {
		t.Error("a decided run still offers Approve")
	}
	inactive := e.scimUsers(t, `active eq false`)
	if len(inactive) != 3 || inactive["user9@example.com"] == nil {
		t.Fatalf("inactive after approving in the console: %v", userKeys(inactive))
	}
	// Deciding again is refused with the API's reason on the run's page.
	u.post(t, heldPage+"/approve", nil).want(t, http.StatusConflict, `class="problem"`, "Succeeded")

	// The next held run is rejected: nothing is removed.
	e.writeFile(t, "users.csv", usersCSV(0, 4, engineer))
	again := e.sync(t, id, "")
	if again.str("status") != "held" {
		t.Fatalf("want a held run: %s", again.Raw)
	}
	u.get(t, base+"/"+again.str("id"))
	u.follow(t, u.post(t, base+"/"+again.str("id")+"/reject", nil)).want(t, http.StatusOK, "Rejected: nothing was removed.", "Rejected")
	if r := e.call(t, "GET", "/api/v1/sources/"+id+"/runs/"+again.str("id"), e.Admin, nil).want(t, 200); r.str("status") != "rejected" {
		t.Fatalf("after Reject: %s", r.Raw)
	}
	if n := len(e.scimUsers(t, `active eq false`)); n != 3 {
		t.Fatalf("after Reject %d inactive users, want 3", n)
	}
}

// TestConsoleRunProgress reads a running run's progress as the page's
// script does: JSON with the counts, growing, and 401 JSON without a
// session.
func TestConsoleRunProgress(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	id, run := runningRun(t, e)
	path := "/ui/sources/" + id + "/runs/" + run.ID
	u := signedIn(t, e)
	u.get(t, path).want(t, http.StatusOK, "Running", `aria-live="polite"`, `data-run-progress="`+path+`/progress"`,
		`<a href="`+path+`">Refresh</a>`, `src="/ui/static/runs.js"`, countCell("Created", "created", 3))

	progress := func(u *consoleUser) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.URL+path+"/progress", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Console-Fetch", "1")
		p := u.do(t, req)
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("progress answered %s: %s", ct, p.Body)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(p.Body), &v); err != nil {
			t.Fatalf("progress: %v: %s", err, p.Body)
		}
		return p.Status, v
	}
	counts := func(v map[string]any) map[string]any { m, _ := v["counts"].(map[string]any); return m }

	status, v := progress(u)
	if status != http.StatusOK || v["status"] != "running" || v["statusWord"] != "Running" || v["live"] != true ||
		counts(v)["fetched"] != 7.0 || counts(v)["created"] != 3.0 || counts(v)["pending"] != 0.0 {
		t.Fatalf("progress while running: %d %v", status, v)
	}
	if _, err := e.Store.UpdateRun(ctx, run.ID, func(r *storage.Run) error { r.Counts.Fetched, r.Counts.Created = 20, 9; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, v := progress(u); counts(v)["fetched"] != 20.0 || counts(v)["created"] != 9.0 {
		t.Fatalf("the counts did not grow: %v", v)
	}
	r, err := e.Store.GetRun(ctx, id, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.Finished = storage.RunSucceeded, e.Store.Now()
	if _, err := e.Store.FinishRun(ctx, r, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, v := progress(u); v["status"] != "succeeded" || v["live"] != false || counts(v)["created"] != 9.0 {
		t.Fatalf("progress after the run: %v", v)
	}

	if status, v := progress(newConsoleUser(t, e)); status != http.StatusUnauthorized || v["error"] == nil {
		t.Fatalf("progress without a session: %d %v", status, v)
	}
	if p := newConsoleUser(t, e).get(t, path+"/progress"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/signin") {
		t.Fatalf("a page load without a session: %d to %q", p.Status, p.Location)
	}
	if status, v := progress(signedIn(t, e)); status != http.StatusOK || v["status"] != "succeeded" {
		t.Fatalf("progress of another admin: %d %v", status, v)
	}
}

// TestConsolePushRuns shows an app's push runs on the same pages: the
// list, a run with its change log, and a held run approved.
func TestConsolePushRuns(t *testing.T) {
	e := newAPIEnv(t)
	if e.Pushes == nil {
		t.Fatal("the store keeps no push bookkeeping")
	}
	ctx := context.Background()
	id := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": goodPush()}).want(t, 201).str("id")
	runs := e.Pushes.store.PushRuns()
	run, err := runs.CreateRun(ctx, storage.Run{SourceID: id, Status: storage.RunRunning, Trigger: "schedule", Mode: "full", Queued: e.Store.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := runs.AddChanges(ctx, run.ID, []storage.Change{
		{Seq: 1, Action: storage.ChangeCreate, Kind: "User", ResourceID: "u1", Name: "ann", Detail: "POST /Users: 201 target id t1",
			After: json.RawMessage(`{"userName":"ann","name":{"givenName":"Ann"},"emails":[{"value":"ann@example.com"}]}`)},
		{Seq: 2, Action: storage.ChangeError, Kind: "Group", ResourceID: "g1", Name: "Sales", Detail: "PATCH /Groups/t9: HTTP 409 uniqueness"},
		{Seq: 3, Action: storage.ChangeUpdate, Kind: "User", ResourceID: "u2", Name: "bob",
			Before: json.RawMessage(`{"userName":"bob","nickName":"bobby","active":true}`), After: json.RawMessage(`{"userName":"bob","active":false}`)},
		{Seq: 4, Action: storage.ChangeUpdate, Kind: "User", ResourceID: "u3", Name: "cy", Before: json.RawMessage(`["odd"]`), After: json.RawMessage(`{"userName":"cy"}`)},
	}); err != nil {
		t.Fatal(err)
	}
	run.Status, run.Finished, run.Counts = storage.RunSucceeded, e.Store.Now(), storage.RunCounts{Created: 1, Errors: 1}
	if _, err := runs.FinishRun(ctx, run, false, nil); err != nil {
		t.Fatal(err)
	}

	u := signedIn(t, e)
	base := "/ui/apps/" + id + "/push/runs"
	u.get(t, "/ui/apps/crm/push/runs").want(t, http.StatusOK, "Push runs of crm", `href="`+base+"/"+run.ID+`"`, "1 created, 1 errors", "succeeded with 1 error")
	u.get(t, base+"/"+run.ID).want(t, http.StatusOK, "Succeeded", "schedule", countCell("Created", "created", 1), countCell("Errors", "errors", 1),
		`Created: User <a href="/ui/directory/users/u1">ann</a>`, "POST /Users: 201 target id t1", "Error: Group Sales", "HTTP 409 uniqueness").
		wantMatch(t, diffRow("name.givenName", `<span class="absent">none</span>`, "Ann", "<strong>added</strong>"),
			diffRow("emails[0].value", `<span class="absent">none</span>`, "ann@example.com", "<strong>added</strong>"),
			diffRow("nickName", "bobby", `<span class="absent">none</span>`, "<strong>removed</strong>"),
			diffRow("active", "true", "false", "<strong>changed</strong>"),
			regexp.MustCompile(`<h4>Before</h4><pre>\[\s*&#34;odd&#34;\s*\]</pre>`))

	held, err := e.Pushes.holdRun(ctx, id, []storage.PendingDeletion{
		{Kind: "User", ID: "u1", Name: "ann", Action: "deactivate"}, {Kind: "Group", ID: "g1", Name: "Sales", Action: "delete"}})
	if err != nil {
		t.Fatal(err)
	}
	heldPage := base + "/" + held.ID
	u.get(t, heldPage).want(t, http.StatusOK, "Held for approval", "Removals 1–2 of 2", `<a href="/ui/directory/users/u1">ann</a>`, "Sales", ">Approve</button>")
	u.follow(t, u.post(t, heldPage+"/approve", nil)).want(t, http.StatusOK, "Approved: 1 user deactivated and 1 group deleted.", "Succeeded")
	if r := e.call(t, "GET", "/api/v1/apps/"+id+"/runs/"+held.ID, e.Admin, nil).want(t, 200); r.str("status") != "succeeded" {
		t.Fatalf("after Approve: %s", r.Raw)
	}
}

// TestConsoleRunPagesRefuse answers what does not exist with the API's
// 404 and treats a bad page offset as the first page.
func TestConsoleRunPagesRefuse(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 2, engineer))
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "small", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201).str("id")
	runID := e.sync(t, id, "").str("id")
	app := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": goodPush()}).want(t, 201).str("id")
	u := signedIn(t, e)
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/ui/sources/nope/runs", "source nope does not exist"},
		{"/ui/sources/" + id + "/runs/nope", "does not exist"},
		{"/ui/apps/" + app + "/push/runs/" + runID, "does not exist"}, // a source's run asked for as an app's
	} {
		u.get(t, tc.path).want(t, http.StatusNotFound, tc.want)
	}
	u.get(t, "/ui/sources/"+id+"/runs/"+runID+"?changes=-4&pending=x").want(t, http.StatusOK, "Changes 1–2 of 2")
	u.post(t, "/ui/sources/"+id+"/runs/"+runID+"/approve", nil).want(t, http.StatusConflict, `class="problem"`)
}

// runningRun is a csv source "slow" with a run in progress (7 fetched,
// 3 created so far), for the pages that follow a live run.
func runningRun(t *testing.T, e *apiEnv) (sourceID string, run storage.Run) {
	t.Helper()
	users := e.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	sourceID = e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "slow", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201).str("id")
	run, err := e.Store.CreateRun(context.Background(), storage.Run{SourceID: sourceID, Status: storage.RunRunning, Trigger: "manual",
		Queued: e.Store.Now(), Started: e.Store.Now(), Counts: storage.RunCounts{Fetched: 7, Created: 3}})
	if err != nil {
		t.Fatal(err)
	}
	return sourceID, run
}
