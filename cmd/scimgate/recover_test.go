package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestServeFailsRunsAStoppedProcessLeft: scimgate died in the middle of a
// run (its run still says running, its lease on the source has not
// expired). Started again on the same SQLite file, serve shows that run
// failed from its first answer on and can run the source at once.
func TestServeFailsRunsAStoppedProcessLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "scimgate.db")
	out, _, err := runCLI(t, nil, "token", "create", "--db", db, "--name", "ops", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := strings.TrimSpace(out)

	// What the stopped process left behind.
	st, err := sqlstore.Open(ctx, db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(users, []byte("externalId,userName\n1,ann@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := st.CreateSource(ctx, storage.Source{Name: "hr", Kind: "csv", Enabled: true, Settings: []byte(`{"usersPath":"` + users + `"}`),
		Deletion: storage.DeletionPolicy{Policy: storage.PolicyDeactivate}})
	if err != nil {
		t.Fatal(err)
	}
	left, err := st.CreateRun(ctx, storage.Run{SourceID: src.ID, Status: storage.RunRunning, Trigger: "manual", Counts: storage.RunCounts{Fetched: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := st.AcquireLease(ctx, src.ID, "old-host/4242/deadbeef", time.Hour); err != nil || !ok {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	addrc := make(chan net.Addr, 1)
	logs := &syncBuffer{}
	m := &Main{Stdout: &syncBuffer{}, Stderr: logs, LookupEnv: mapEnv(nil), Listening: func(a net.Addr) { addrc <- a }}
	done := make(chan error, 1)
	go func() {
		done <- m.Run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--csv-dir", dir})
	}()
	t.Cleanup(func() { <-done })
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String() + "/api/v1/sources/" + src.ID
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s", err, logs.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs.String())
	}
	var run struct {
		Status string         `json:"status"`
		Error  string         `json:"error"`
		Counts map[string]int `json:"counts"`
	}
	apiCall(t, http.MethodGet, base+"/runs/"+left.ID, admin, http.StatusOK, &run)
	if run.Status != "failed" || !strings.Contains(run.Error, "scimgate stopped during the run") || run.Counts["fetched"] != 1 {
		t.Errorf("the run left running = %+v, want failed as interrupted with its counts kept", run)
	}
	// The old lease is gone: run-now is not refused as busy.
	apiCall(t, http.MethodPost, base+"/sync", admin, http.StatusAccepted, nil)
}

// apiCall sends a request with token and decodes the answer into out.
func apiCall(t *testing.T, method, url, token string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		t.Fatalf("%s %s = %d %v, want %d", method, url, res.StatusCode, body, want)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}
