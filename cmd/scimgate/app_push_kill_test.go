package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound/targettest"
)

// TestAppPushSurvivesAKill: scimgate is killed (SIGKILL, no shutdown)
// in the middle of a first push into a slow target. Started again on the
// same database, it fails the interrupted run, and the next push
// converges: every user of the view is in the target exactly once,
// including the ones whose create was on the wire when the process died.
func TestAppPushSurvivesAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: not in -short")
	}
	t.Parallel()
	const users = 300
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	target := targettest.New(t, targettest.Options{Token: "target-secret"})
	// Slow enough that the kill lands mid-run, with creates in flight.
	target.Latency(15 * time.Millisecond)

	var csv strings.Builder
	csv.WriteString("externalId,userName,givenName,familyName\n")
	for i := range users {
		csv.WriteString(strings.Join([]string{strconv.Itoa(i), "user" + strconv.Itoa(i) + "@example.com", "Given", "Family"}, ",") + "\n")
	}
	usersPath := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(usersPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	const admin = "kill-test-admin-token-0123456789"
	env := append(os.Environ(),
		"SCIMGATE_DB="+filepath.Join(dir, "scimgate.db"),
		"SCIMGATE_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"SCIMGATE_ADMIN_TOKEN="+admin,
		"SCIMGATE_CSV_DIRS="+dir,
	)
	first := startReplica(t, "first", bin, dir, env)
	var src struct{ ID string }
	if status := call(t, first, admin, "POST", "/api/v1/sources", map[string]any{"name": "hr", "kind": "csv",
		"settings": map[string]any{"usersPath": usersPath}}, &src); status != 201 {
		t.Fatalf("create source = %d", status)
	}
	if status := call(t, first, admin, "POST", "/api/v1/sources/"+src.ID+"/sync", nil, nil); status != 202 {
		t.Fatalf("sync = %d", status)
	}
	waitRuns(t, first, admin, src.ID, 1, 60*time.Second)
	var app struct{ ID string }
	if status := call(t, first, admin, "POST", "/api/v1/apps", map[string]any{"name": "slack",
		"push": map[string]any{"url": target.URL(), "auth": map[string]any{"type": "bearer", "token": "target-secret"}, "enabled": false}}, &app); status != 201 {
		t.Fatalf("create app = %d", status)
	}
	if status := call(t, first, admin, "POST", "/api/v1/apps/"+app.ID+"/sync?mode=full", nil, nil); status != 202 {
		t.Fatalf("push = %d", status)
	}
	for deadline := time.Now().Add(60 * time.Second); len(target.Users()) < users/4; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the push did not get going: %d users in the target", len(target.Users()))
		}
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.cmd.Wait()
	atKill := len(target.Users())
	if atKill >= users {
		t.Fatalf("the push finished before the kill (%d users): make the target slower", atKill)
	}

	second := startReplica(t, "second", bin, dir, env)
	var runs struct{ Runs []pushRun }
	call(t, second, admin, "GET", "/api/v1/apps/"+app.ID+"/runs", nil, &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].Status != "failed" || !strings.Contains(runs.Runs[0].Error, "stopped") {
		t.Fatalf("the killed run after the restart = %+v, want it failed as interrupted", runs.Runs)
	}
	target.Latency(0)
	if status := call(t, second, admin, "POST", "/api/v1/apps/"+app.ID+"/sync", nil, nil); status != 202 {
		t.Fatalf("push after the restart = %d", status)
	}
	var last pushRun
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var all struct{ Runs []pushRun }
		call(t, second, admin, "GET", "/api/v1/apps/"+app.ID+"/runs", nil, &all)
		if len(all.Runs) == 2 && all.Runs[0].Status != "queued" && all.Runs[0].Status != "running" {
			last = all.Runs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the push after the restart did not finish: %+v", all.Runs)
		}
	}
	if last.Status != "succeeded" || last.Counts["errors"] != 0 {
		t.Fatalf("the push after the restart = %+v, want succeeded without errors", last)
	}
	t.Logf("users in the target at the kill: %d; the next push created %d, claimed or adopted the rest", atKill, last.Counts["created"])
	seen := map[string]int{}
	for _, u := range target.Users() {
		seen[strings.ToLower(u.Str("userName"))]++
	}
	if len(seen) != users {
		t.Errorf("the target holds %d distinct users, want %d", len(seen), users)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s is in the target %d times", name, n)
		}
	}
	if got := len(target.Users()); got != users {
		t.Errorf("the target holds %d users, want %d (%d were there at the kill)", got, users, atKill)
	}
	if created := last.Counts["created"]; created > users-atKill+8 {
		t.Errorf("the second push created %d users, but only %d were missing at the kill", created, users-atKill)
	}
}

// pushRun is the part of a push run's JSON the kill test reads.
type pushRun struct {
	Status string         `json:"status"`
	Error  string         `json:"error"`
	Counts map[string]int `json:"counts"`
}
