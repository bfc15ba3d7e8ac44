package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// pushStub is a config API stub with one pushed app, slack (id a1), whose
// run r1 runs, then is held; it records the sync queries it gets.
type pushStub struct {
	mu      sync.Mutex
	queries []string
	polls   atomic.Int32
}

func (p *pushStub) handler() http.Handler {
	run := func(status string) map[string]any {
		return map[string]any{"id": "r1", "sourceId": "a1", "status": status, "trigger": "manual", "mode": "incremental",
			"counts": map[string]int{"fetched": 0, "created": 2, "pending": 3}}
	}
	mux := http.NewServeMux()
	app := map[string]any{"id": "a1", "name": "slack", "push": map[string]any{"url": "https://slack.example.com/scim/v2", "enabled": true,
		"health": map[string]any{"consecutiveFailures": 2}}}
	mux.HandleFunc("GET /api/v1/apps", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"apps": []any{map[string]any{"id": "a0", "name": "crm"}, app}})
	})
	for _, path := range []string{"/api/v1/apps/slack", "/api/v1/apps/a1"} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) { json.NewEncoder(w).Encode(app) })
	}
	mux.HandleFunc("POST /api/v1/apps/a1/test", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "checks": []any{
			map[string]any{"name": "reach", "ok": true, "detail": "the target answered in 12ms"},
			map[string]any{"name": "auth", "ok": false, "detail": "the target answered 401: the token was refused"}}})
	})
	mux.HandleFunc("POST /api/v1/apps/a1/sync", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.queries = append(p.queries, r.URL.RawQuery)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(run("queued"))
	})
	mux.HandleFunc("GET /api/v1/apps/a1/runs/r1", func(w http.ResponseWriter, _ *http.Request) {
		status := "running"
		if p.polls.Add(1) > 2 {
			status = "held"
		}
		json.NewEncoder(w).Encode(run(status))
	})
	mux.HandleFunc("GET /api/v1/apps/a1/runs", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"runs": []any{run("held")}})
	})
	mux.HandleFunc("POST /api/v1/apps/a1/runs/r1/approve", func(w http.ResponseWriter, _ *http.Request) {
		r := run("succeeded")
		r["counts"] = map[string]int{"created": 2, "deactivated": 3}
		json.NewEncoder(w).Encode(r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "not_found", "message": r.URL.Path + " does not exist"}})
	})
	return mux
}

// TestAppPushCommands: the app verbs of push send what the source verbs
// send for sources and print alike (the config API is a stub here, so
// the held run is there for certain).
func TestAppPushCommands(t *testing.T) {
	t.Parallel()
	stub := &pushStub{}
	srv := httptest.NewServer(stub.handler())
	t.Cleanup(srv.Close)
	env := map[string]string{envServer: srv.URL, envToken: "t"}

	out, _, err := runCLI(t, env, "app", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^crm\s+a0\s+\?\s+\?\s+\?\s+0\s+-$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^slack\s+a1\s+.*\s+failing \(2\)$`).MatchString(out) {
		t.Errorf("list = %q", out)
	}
	out, _, err = runCLI(t, env, "app", "test", "slack")
	if err == nil || !strings.Contains(err.Error(), "app slack: the push target failed check auth") {
		t.Errorf("test with a failed check = %v", err)
	}
	mustContain(t, "test stdout", out, "ok   reach: the target answered in 12ms\n", "FAIL auth: the target answered 401: the token was refused\n")

	out, errOut, err := runCLI(t, env, "app", "sync", "slack", "--full", "--dry-run")
	if err != nil || strings.TrimSpace(out) != "r1" {
		t.Fatalf("sync = %q, %v\n%s", out, err, errOut)
	}
	mustContain(t, "sync stderr", errOut, "Started run r1 of slack; follow it with 'scimgate app runs slack'.")

	out, _, err = runCLI(t, env, "app", "sync", "a1", "--wait")
	if err == nil {
		t.Fatal("a held run exited 0")
	}
	mustContain(t, "held error", err.Error(), "run r1 of slack is HELD for approval: it would remove 3 objects, more than the app's push deletion limits allow",
		"'scimgate app approve r1'", "'scimgate app reject r1'")
	mustContain(t, "held stdout", out, "run r1 held (incremental): fetched 0, created 2", "pending 3")
	stub.mu.Lock()
	queries := stub.queries
	stub.mu.Unlock()
	if len(queries) != 2 || queries[0] != "dryRun=true&mode=full" || queries[1] != "" {
		t.Errorf("sync queries = %q", queries)
	}

	out, _, err = runCLI(t, env, "app", "runs", "slack")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "runs", out, "RUN  ", "r1   held    manual   incremental")

	// approve finds the run's app by asking each pushed app.
	out, _, err = runCLI(t, env, "app", "approve", "r1")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "approve", out, "run r1 succeeded (incremental): fetched 0, created 2, updated 0, unchanged 0, deactivated 3")
	if _, _, err = runCLI(t, env, "app", "reject", "r9"); err == nil || !strings.Contains(err.Error(), `no app has a run "r9"`) {
		t.Errorf("reject of an unknown run = %v", err)
	}
	if _, _, err = runCLI(t, env, "app", "approve", "r1", "--app", "nope"); err == nil || !strings.Contains(err.Error(), "/api/v1/apps/nope does not exist") {
		t.Errorf("approve --app nope = %v", err)
	}
}
