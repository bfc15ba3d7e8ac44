package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSyncWaitNamesConflicts: a run that left records out still exits 0,
// and says so: the outcome line counts the conflicts and stderr says where
// to read them.
func TestSyncWaitNamesConflicts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	users := s.writeFile(t, "users.csv", "externalId,userName,givenName,familyName\n"+
		"1,ann@example.com,Ann,A\n2,ann@example.com,Ann,B\n3,bob@example.com,Bob,C\n")
	if _, errOut, err := s.cli(t, "source", "add", "--name", "hr", "--kind", "csv", "--setting", "usersPath="+users); err != nil {
		t.Fatalf("add: %v\n%s", err, errOut)
	}
	out, errOut, err := s.cli(t, "source", "sync", "hr", "--wait")
	if err != nil {
		t.Fatalf("sync with a conflict = %v, want exit 0 (the run succeeded)\n%s", err, errOut)
	}
	mustContain(t, "sync output", out, " succeeded with 1 conflict (full): fetched 3, created 2, ", "conflicts 1, errors 0")
	mustContain(t, "sync stderr", errOut, "warning: 1 record was not applied", "/api/v1/sources/", "/changes")
	if strings.Count(out, "\n") != 1 {
		t.Errorf("stdout has more than the outcome line:\n%s", out)
	}
}

// TestSyncWaitFollowsARunAlreadyInProgress: when the schedule started the
// source's run a moment before the admin's `source sync --wait`, the
// command follows that run rather than failing with "already in
// progress". The config API is a stub here, so the run in progress is
// there for certain.
func TestSyncWaitFollowsARunAlreadyInProgress(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	run := func(status string) map[string]any {
		return map[string]any{"id": "r1", "sourceId": "s1", "status": status, "trigger": "schedule", "mode": "full",
			"counts": map[string]int{"fetched": 3, "created": 3}}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/sources", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"sources": []map[string]any{{"id": "s1", "name": "hr", "kind": "csv"}}})
	})
	mux.HandleFunc("GET /api/v1/sources/s1", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"id": "s1", "name": "hr", "kind": "csv"})
	})
	mux.HandleFunc("POST /api/v1/sources/s1/sync", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "run_in_progress",
			"message": "a run of this source is already in progress (run r1); wait for it to finish", "runId": "r1"}})
	})
	mux.HandleFunc("GET /api/v1/sources/s1/runs/r1", func(w http.ResponseWriter, _ *http.Request) {
		status := "running"
		if polls.Add(1) > 2 {
			status = "succeeded"
		}
		json.NewEncoder(w).Encode(run(status))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	env := map[string]string{envServer: srv.URL, envToken: "t"}

	out, errOut, err := runCLI(t, env, "source", "sync", "hr", "--wait")
	if err != nil {
		t.Fatalf("sync --wait with a run in progress = %v\n%s", err, errOut)
	}
	mustContain(t, "stderr", errOut, "hr: a run is already in progress (run r1, trigger schedule); following it.")
	mustContain(t, "stdout", out, "succeeded (full): fetched 3, created 3")
	// Without --wait, or asking for another kind of run, the refusal stands.
	for _, args := range [][]string{{"source", "sync", "hr"}, {"source", "sync", "hr", "--wait", "--full"}} {
		if _, _, err := runCLI(t, env, args...); err == nil || !strings.Contains(err.Error(), "already in progress") {
			t.Errorf("%v = %v, want the refusal", args, err)
		}
	}
}
