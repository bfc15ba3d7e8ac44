package api_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// usersCSV renders a users file for ids [from, to) with a title per id.
func usersCSV(from, to int, title func(i int) string) string {
	var b strings.Builder
	b.WriteString("externalId,userName,givenName,familyName,email,active,title,department,manager\n")
	for i := from; i < to; i++ {
		mgr := ""
		if i != from {
			mgr = fmt.Sprint(from)
		}
		fmt.Fprintf(&b, "%d,user%d@example.com,Given%d,Family%d,user%d@example.com,true,%s,Eng,%s\n", i, i, i, i, i, title(i), mgr)
	}
	return b.String()
}

func engineer(int) string { return "Engineer" }

func TestCSVSourceThroughTheAPI(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 10, engineer))
	groups := e.writeFile(t, "groups.csv", "externalId,displayName,members\ng1,Engineering,1;2;3\n")
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr-export", "kind": "csv", "enabled": true, "schedule": "1h",
		"settings": map[string]any{"usersPath": users, "groupsPath": groups},
		"deletion": map[string]any{"policy": "deactivate", "maxPercent": 20},
	}).want(t, 201)
	id := src.str("id")
	if id == "" || src.str("kind") != "csv" || src.num("deletion", "maxPercent") != 20 || src.str("effectiveMapping", "user", "userName") != "{userName}" {
		t.Fatalf("created source: %s", src.Raw)
	}

	// First run: everything is created and visible over SCIM.
	run := e.sync(t, id, "")
	if run.str("status") != "succeeded" || run.str("trigger") != "manual" || run.str("mode") != "full" {
		t.Fatalf("first run: %s", run.Raw)
	}
	wantRunCounts(t, run, map[string]float64{"fetched": 11, "created": 11})
	seen := e.scimUsers(t, `userName eq "USER5@example.com"`)
	u5 := seen["user5@example.com"]
	if u5 == nil || u5["title"] != "Engineer" || u5["externalId"] != "5" {
		t.Fatalf("user5 over SCIM: %v", u5)
	}
	checkpoint := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(5 * time.Millisecond)

	// Change one title and add a user: exactly those change.
	e.writeFile(t, "users.csv", usersCSV(0, 11, func(i int) string {
		if i == 5 {
			return "Staff Engineer"
		}
		return "Engineer"
	}))
	run = e.sync(t, id, "")
	wantRunCounts(t, run, map[string]float64{"fetched": 12, "created": 1, "updated": 1, "unchanged": 10})
	changed := e.scimUsers(t, `meta.lastModified gt "`+checkpoint+`"`)
	if len(changed) != 2 || changed["user5@example.com"]["title"] != "Staff Engineer" || changed["user10@example.com"] == nil {
		t.Errorf("changed since checkpoint: %v", userKeys(changed))
	}
	log := e.call(t, "GET", "/api/v1/sources/"+id+"/runs/"+run.str("id")+"/changes", e.Admin, nil).want(t, 200)
	if log.num("total") != 2 || !bytes.Contains(log.Raw, []byte(`"action":"update"`)) || !bytes.Contains(log.Raw, []byte(`Staff Engineer`)) {
		t.Errorf("change log: %s", log.Raw)
	}

	// A dry run that would remove 3 of 12 changes nothing.
	e.writeFile(t, "users.csv", usersCSV(0, 8, engineer))
	dry := e.sync(t, id, "?dryRun=true")
	if dry.str("status") != "succeeded" || !strings.Contains(string(dry.Raw), "would be held") {
		t.Errorf("dry run: %s", dry.Raw)
	}
	if n := len(e.scimUsers(t, `active eq true`)); n != 11 {
		t.Errorf("after a dry run %d active users, want 11", n)
	}

	// The real run is held: 3 of 12 objects is more than 20%.
	held := e.sync(t, id, "")
	if held.str("status") != "held" || held.num("counts", "pending") != 3 {
		t.Fatalf("held run: %s", held.Raw)
	}
	runID := held.str("id")
	pending := e.call(t, "GET", "/api/v1/sources/"+id+"/runs/"+runID+"/pending", e.Admin, nil).want(t, 200)
	if pending.num("total") != 3 || !bytes.Contains(pending.Raw, []byte("user9@example.com")) {
		t.Errorf("pending: %s", pending.Raw)
	}
	e.call(t, "POST", "/api/v1/sources/"+id+"/sync", e.Admin, nil).wantErr(t, 409, "run_held")
	if n := len(e.scimUsers(t, `active eq true`)); n != 11 {
		t.Errorf("a held run deactivated users: %d active", n)
	}
	approved := e.call(t, "POST", "/api/v1/sources/"+id+"/runs/"+runID+"/approve", e.Admin, nil).want(t, 200)
	if approved.str("status") != "succeeded" || approved.num("counts", "deactivated") != 3 || approved.str("decidedBy") != "ops" {
		t.Fatalf("approved: %s", approved.Raw)
	}
	e.call(t, "POST", "/api/v1/sources/"+id+"/runs/"+runID+"/reject", e.Admin, nil).wantErr(t, 409, "not_held")
	inactive := e.scimUsers(t, `active eq false`)
	if len(inactive) != 3 || inactive["user8@example.com"] == nil {
		t.Errorf("inactive after approval: %v", userKeys(inactive))
	}
	runs := e.call(t, "GET", "/api/v1/sources/"+id+"/runs", e.Admin, nil).want(t, 200)
	if list, _ := runs.Body["runs"].([]any); len(list) != 4 {
		t.Errorf("runs: %s", runs.Raw)
	}
}

func userKeys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCSVParseErrorFailsRunAndBacksOff(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 3, engineer))
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "broken", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201)
	id := src.str("id")
	wantRunCounts(t, e.sync(t, id, ""), map[string]float64{"fetched": 3, "created": 3})
	e.writeFile(t, "users.csv", "externalId,userName,shoeSize\n1,a@example.com,9\n")
	run := e.sync(t, id, "")
	if run.str("status") != "failed" || !strings.Contains(run.str("error"), "line 1: header columns 3 are not known columns") {
		t.Fatalf("run: %s", run.Raw)
	}
	wantRunCounts(t, run, map[string]float64{})
	if n := len(e.scimUsers(t, `active eq true`)); n != 3 {
		t.Errorf("a failed run changed the directory: %d active", n)
	}
	got := e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).want(t, 200)
	if got.num("health", "consecutiveFailures") != 1 || got.str("health", "backoffUntil") == "" || got.str("health", "lastError") == "" {
		t.Errorf("source after a failure: %s", got.Raw)
	}
	// Malformed rows are reported with their lines; the good rows sync.
	e.writeFile(t, "users.csv", "externalId,userName,active\n0,user0@example.com,true\n1,user1@example.com,perhaps\n")
	run = e.sync(t, id, "")
	if run.str("status") != "succeeded" || run.num("counts", "errors") != 1 {
		t.Fatalf("run: %s", run.Raw)
	}
	log := e.call(t, "GET", "/api/v1/sources/"+id+"/runs/"+run.str("id")+"/changes", e.Admin, nil).want(t, 200)
	if !bytes.Contains(log.Raw, []byte(`users.csv line 3: active must be true, false or empty`)) {
		t.Errorf("change log: %s", log.Raw)
	}
	if !strings.Contains(string(run.Raw), "removes nothing") {
		t.Errorf("a run with bad rows should say it removes nothing: %s", run.Raw)
	}
}

func TestSourceValidationReportsEveryField(t *testing.T) {
	e := newAPIEnv(t)
	r := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "x", "kind": "csv", "schedule": "every tuesday",
		"settings": map[string]any{"groupsPath": "relative.csv", "colour": "blue"},
	})
	eobj := r.wantErr(t, 422, "invalid_config")
	fields, _ := eobj["fields"].(map[string]any)
	if fields["schedule"] == nil || fields["settings"] == nil {
		t.Errorf("fields = %v", fields)
	}
	r = e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "x", "kind": "csv", "settings": map[string]any{"groupsPath": "relative.csv"},
		"mapping":  map[string]any{"user": map[string]any{"shoeSize": "{x}", "title": "{unclosed"}},
		"deletion": map[string]any{"policy": "shred", "maxPercent": 150},
		"scope":    "department eq",
	})
	fields, _ = r.wantErr(t, 422, "invalid_config")["fields"].(map[string]any)
	for _, f := range []string{"settings.usersPath", "settings.groupsPath", "mapping.user.shoeSize", "mapping.user.title", "deletion.policy", "deletion.maxPercent", "scope"} {
		if fields[f] == nil {
			t.Errorf("no problem reported for %s: %v", f, fields)
		}
	}
	r = e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "x", "kind": "ftp"})
	fields, _ = r.wantErr(t, 422, "invalid_config")["fields"].(map[string]any)
	if !strings.Contains(fmt.Sprint(fields["kind"]), "csv") {
		t.Errorf("kind problem should list the kinds: %v", fields)
	}
	e.call(t, "POST", "/api/v1/sources", e.Admin, `{"name": "x", `).wantErr(t, 400, "bad_request")
	e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{"name": "x", "kind": "csv", "sched": "1h"}).wantErr(t, 400, "bad_request")
	ok := map[string]any{"name": "dup", "kind": "csv", "settings": map[string]any{"usersPath": "/tmp/u.csv"}}
	e.call(t, "POST", "/api/v1/sources", e.Admin, ok).want(t, 201)
	e.call(t, "POST", "/api/v1/sources", e.Admin, ok).wantErr(t, 409, "conflict")
	e.call(t, "GET", "/api/v1/sources/nope", e.Admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "POST", "/api/v1/sources/nope/sync", e.Admin, nil).wantErr(t, 404, "not_found")
	e.call(t, "GET", "/api/v1/nothing-here", e.Admin, nil).wantErr(t, 404, "not_found")
	// Nothing invalid was stored.
	list := e.call(t, "GET", "/api/v1/sources", e.Admin, nil).want(t, 200)
	if n := len(list.Body["sources"].([]any)); n != 1 {
		t.Errorf("%d sources stored, want 1", n)
	}
}

func TestSourceUpdateAndDelete(t *testing.T) {
	e := newAPIEnv(t)
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "a", "kind": "csv", "schedule": "15m", "settings": map[string]any{"usersPath": "/tmp/a.csv"},
		"mapping": map[string]any{"user": map[string]any{"userName": "{givenName|lower}.{familyName|lower}@example.com"}},
	}).want(t, 201)
	id := src.str("id")
	if src.str("effectiveMapping", "user", "userName") != "{givenName|lower}.{familyName|lower}@example.com" || src.str("effectiveMapping", "user", "title") != "{title}" {
		t.Errorf("mapping: %s", src.Raw)
	}
	p := e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"enabled": false, "settings": map[string]any{"groupsPath": "/tmp/g.csv"}}).want(t, 200)
	if p.Body["enabled"] != false || p.str("settings", "usersPath") != "/tmp/a.csv" || p.str("settings", "groupsPath") != "/tmp/g.csv" || p.str("schedule") != "15m" {
		t.Errorf("after PATCH: %s", p.Raw)
	}
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"schedule": "nope"}).wantErr(t, 422, "invalid_config")
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"kind": "fake"}).wantErr(t, 422, "invalid_config")
	put := e.call(t, "PUT", "/api/v1/sources/"+id, e.Admin, map[string]any{"name": "b", "kind": "csv", "settings": map[string]any{"usersPath": "/tmp/b.csv"}}).want(t, 200)
	if put.str("name") != "b" || put.str("schedule") != "" || put.Body["enabled"] != true || put.str("settings", "groupsPath") != "" || put.num("version") != 3 {
		t.Errorf("after PUT: %s", put.Raw)
	}
	e.call(t, "DELETE", "/api/v1/sources/"+id, e.Admin, nil).want(t, 204)
	e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).wantErr(t, 404, "not_found")
	audit := e.call(t, "GET", "/api/v1/audit", e.Admin, nil).want(t, 200)
	for _, action := range []string{"source.create", "source.patch", "source.replace", "source.delete"} {
		if !bytes.Contains(audit.Raw, []byte(`"action":"`+action+`"`)) {
			t.Errorf("audit log lacks %s: %s", action, audit.Raw)
		}
	}
}

// TestSecretsNeverLeak: a secret setting is sealed, never shown, never
// logged, and can be rotated.
func TestSecretsNeverLeak(t *testing.T) {
	e := newAPIEnv(t)
	const secret = "sk-live-DO-NOT-LEAK-4711"
	src := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "fake", "kind": "fake", "settings": map[string]any{"region": "eu", "apiToken": secret},
	}).want(t, 201)
	id := src.str("id")
	if got := fmt.Sprint(src.Body["secretsSet"]); got != "[apiToken]" {
		t.Errorf("secretsSet = %s", got)
	}
	e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).want(t, 200)
	e.call(t, "GET", "/api/v1/sources", e.Admin, nil).want(t, 200)
	if r := e.call(t, "POST", "/api/v1/sources/"+id+"/test", e.Admin, nil).want(t, 200); r.Body["ok"] != true {
		t.Errorf("test: %s", r.Raw)
	}
	// Rotation: a bad token is reported by the test endpoint; a PATCH
	// without the secret keeps it.
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"settings": map[string]any{"apiToken": "bad"}}).want(t, 200)
	r := e.call(t, "POST", "/api/v1/sources/"+id+"/test", e.Admin, nil).want(t, 200)
	if r.Body["ok"] != false || !strings.Contains(r.str("message"), "refused (401)") {
		t.Errorf("test with a bad token: %s", r.Raw)
	}
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"settings": map[string]any{"apiToken": secret}}).want(t, 200)
	e.call(t, "PATCH", "/api/v1/sources/"+id, e.Admin, map[string]any{"schedule": "1h"}).want(t, 200)
	if r := e.call(t, "POST", "/api/v1/sources/"+id+"/test", e.Admin, nil).want(t, 200); r.Body["ok"] != true {
		t.Errorf("test after rotation: %s", r.Raw)
	}
	e.sync(t, id, "")
	e.call(t, "GET", "/api/v1/audit", e.Admin, nil).want(t, 200)
	for _, raw := range e.seenRaw {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("a response carries the secret: %s", raw)
		}
	}
	if strings.Contains(e.Logs.String(), secret) {
		t.Error("the log carries the secret")
	}
	for _, f := range []string{e.DBPath, e.DBPath + "-wal"} {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in the clear", f)
		}
	}
}

// TestASecretCopiedToAnotherSourceDoesNotOpen: sealed secrets are bound
// to their source, so a ciphertext copied into another source's row (by
// someone with write access to the database but not the key) is refused
// with an error that says what to do, and is never used.
func TestASecretCopiedToAnotherSourceDoesNotOpen(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	// The fake source refuses the token "bad": had the copied secret
	// opened, the test would report the 401.
	a := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "a", "kind": "fake", "settings": map[string]any{"region": "eu", "apiToken": "bad"}}).want(t, 201).str("id")
	b := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "b", "kind": "fake", "settings": map[string]any{"region": "eu", "apiToken": "good"}}).want(t, 201).str("id")
	if r := e.call(t, "POST", "/api/v1/sources/"+b+"/test", e.Admin, nil).want(t, 200); r.Body["ok"] != true {
		t.Fatalf("test of b before the copy: %s", r.Raw)
	}
	srcA, err := e.Store.GetSource(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.UpdateSource(ctx, b, func(src *storage.Source) error {
		src.Secrets = srcA.Secrets
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := e.call(t, "POST", "/api/v1/sources/"+b+"/test", e.Admin, nil).want(t, 200)
	if r.Body["ok"] != false || !strings.Contains(r.str("message"), "for another source") || strings.Contains(r.str("message"), "401") {
		t.Errorf("test of b with a's secret: %s", r.Raw)
	}
	if r := e.call(t, "POST", "/api/v1/sources/"+b+"/sync", e.Admin, nil).want(t, 409); r.str("error", "code") != "secret_unreadable" ||
		!strings.Contains(r.str("error", "message"), "apiToken") {
		t.Errorf("run now of b with a's secret: %s", r.Raw)
	}
	// Setting the secret again through the API mends the source.
	e.call(t, "PATCH", "/api/v1/sources/"+b, e.Admin, map[string]any{"settings": map[string]any{"apiToken": "good"}}).want(t, 200)
	if r := e.call(t, "POST", "/api/v1/sources/"+b+"/test", e.Admin, nil).want(t, 200); r.Body["ok"] != true {
		t.Errorf("test of b after setting its secret again: %s", r.Raw)
	}
}

func TestRunNowDuringARunIsRefused(t *testing.T) {
	e := newAPIEnv(t)
	e.Fake.SetUsers()
	e.Fake.Block = make(chan struct{})
	e.Fake.SetUsers(fakeUsers(4)...)
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "slow", "kind": "fake", "settings": map[string]any{"region": "eu"},
	}).want(t, 201).str("id")
	first := e.call(t, "POST", "/api/v1/sources/"+id+"/sync", e.Admin, nil).want(t, 202)
	eobj := e.call(t, "POST", "/api/v1/sources/"+id+"/sync", e.Admin, nil).wantErr(t, 409, "run_in_progress")
	if eobj["runId"] != first.str("id") {
		t.Errorf("409 names run %v, want %s", eobj["runId"], first.str("id"))
	}
	if got := e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).str("runningRunId"); got != first.str("id") {
		t.Errorf("runningRunId = %q", got)
	}
	e.call(t, "DELETE", "/api/v1/sources/"+id, e.Admin, nil).wantErr(t, 409, "run_in_progress")
	close(e.Fake.Block)
	if r := e.waitRun(t, id, first.str("id")); r.str("status") != "succeeded" {
		t.Errorf("run: %s", r.Raw)
	}
}
