package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// replica is one `scimgate serve` process.
type replica struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// TestReplicasOnPostgres runs two scimgate processes on one PostgreSQL
// database and checks what several replicas promise: a write through one
// is read through the other; colliding creates through both give one
// success per name and 409s, no 500; a scheduled source runs once per
// due time across both; and when the replica running a sync is killed,
// the other finishes the work later with nothing lost or duplicated.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	if testing.Short() {
		t.Skip("starts two servers and waits for a scheduled run: not in -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "scimgate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	const admin = "e2e-admin-token-0123456789"
	env := append(os.Environ(),
		"SCIMGATE_DB="+dsn,
		"SCIMGATE_SECRET_KEY=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"SCIMGATE_ADMIN_TOKEN="+admin,
		"SCIMGATE_SYNC_LEASE_SECONDS=3",
		"SCIMGATE_CSV_DIRS="+dir,
	)
	a := startReplica(t, "A", bin, dir, env)
	b := startReplica(t, "B", bin, dir, env)
	writer := createToken(t, a, admin, "e2e-writer", "writer")

	t.Run("WriteThroughOneReadThroughOther", func(t *testing.T) {
		var created map[string]any
		status := call(t, a, writer, "POST", "/scim/v2/Users", scimUser("grace@example.com"), &created)
		if status != http.StatusCreated {
			t.Fatalf("create on A = %d", status)
		}
		var got map[string]any
		if status := call(t, b, writer, "GET", "/scim/v2/Users/"+created["id"].(string), nil, &got); status != http.StatusOK || got["userName"] != "grace@example.com" {
			t.Fatalf("read on B = %d %v", status, got["userName"])
		}
	})

	t.Run("CollidingCreatesThroughBoth", func(t *testing.T) {
		const names, clients = 10, 6
		var mu sync.Mutex
		statuses := map[string]map[int]int{}
		var wg sync.WaitGroup
		for n := range names {
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := []*replica{a, b}[c%2]
					userName := fmt.Sprintf("collide%d@example.com", n)
					if c%3 == 1 {
						userName = strings.ToUpper(userName) // case-insensitively the same
					}
					status := call(t, r, writer, "POST", "/scim/v2/Users", scimUser(userName), nil)
					mu.Lock()
					defer mu.Unlock()
					key := fmt.Sprint(n)
					if statuses[key] == nil {
						statuses[key] = map[int]int{}
					}
					statuses[key][status]++
				}()
			}
		}
		wg.Wait()
		for n := range names {
			got := statuses[fmt.Sprint(n)]
			if got[http.StatusCreated] != 1 || got[http.StatusConflict] != clients-1 {
				t.Errorf("name %d: statuses %v, want one 201 and %d 409", n, got, clients-1)
			}
		}
	})

	t.Run("ScheduledSourceRunsOncePerDueTime", func(t *testing.T) {
		users := writeUsersCSV(t, filepath.Join(dir, "scheduled.csv"), "sched", 5)
		src := createSource(t, a, admin, "scheduled", users, "1m")
		// Never run: due at once; then once a minute (plus up to 6 s of
		// jitter), with both schedulers polling every 10 s.
		runs := waitRuns(t, b, admin, src, 2, 3*time.Minute)
		for _, r := range runs {
			if r.Trigger != "schedule" || r.Status != "succeeded" {
				t.Errorf("run %s: trigger %s, status %s (%s); want schedule, succeeded", r.ID, r.Trigger, r.Status, r.Error)
			}
		}
		if gap := runs[0].Queued.Sub(runs[1].Queued); gap < time.Minute {
			t.Errorf("two runs %s apart on a 1m schedule: a due time ran twice", gap)
		}
	})

	t.Run("KilledHolderIsTakenOver", func(t *testing.T) {
		const n = 40000
		users := writeUsersCSV(t, filepath.Join(dir, "big.csv"), "big", n)
		src := createSource(t, a, admin, "big", users, "")
		var run runInfo
		if status := call(t, a, admin, "POST", "/api/v1/sources/"+src+"/sync", map[string]any{}, &run); status != http.StatusAccepted {
			t.Fatalf("run-now on A = %d", status)
		}
		// Kill A once its run has written part of the directory.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			var cur runInfo
			call(t, b, admin, "GET", "/api/v1/sources/"+src+"/runs/"+run.ID, nil, &cur)
			if cur.Status == "running" && cur.Counts.Created > 0 {
				break
			}
			if cur.Status != "queued" && cur.Status != "running" || time.Now().After(deadline) {
				t.Fatalf("never saw the run in progress: %+v", cur)
			}
		}
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		a.cmd.Wait()
		// B refuses with 409 while A's lease lasts, then takes over.
		var next runInfo
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			status := call(t, b, admin, "POST", "/api/v1/sources/"+src+"/sync", map[string]any{}, &next)
			if status == http.StatusAccepted {
				break
			}
			if status != http.StatusConflict || time.Now().After(deadline) {
				t.Fatalf("run-now on B = %d", status)
			}
		}
		done := waitRun(t, b, admin, src, next.ID, 3*time.Minute)
		if done.Status != "succeeded" || done.Counts.Created+done.Counts.Unchanged+done.Counts.Updated != n {
			t.Fatalf("B's run: %s, counts %+v (%s); want succeeded over %d users", done.Status, done.Counts, done.Error, n)
		}
		var orphan runInfo
		call(t, b, admin, "GET", "/api/v1/sources/"+src+"/runs/"+run.ID, nil, &orphan)
		if orphan.Status != "failed" || !strings.Contains(orphan.Error, "abandoned") {
			t.Errorf("A's killed run = %s (%s), want failed as abandoned", orphan.Status, orphan.Error)
		}
		var list struct {
			TotalResults int `json:"totalResults"`
		}
		call(t, b, writer, "GET", `/scim/v2/Users?count=0&filter=userName+sw+"big"`, nil, &list)
		if list.TotalResults != n {
			t.Errorf("users from the big source = %d, want %d", list.TotalResults, n)
		}
	})
}

func startReplica(t *testing.T, name, bin, dir string, env []string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replica{name: name, url: "http://" + addr, log: &bytes.Buffer{}}
	r.cmd = exec.Command(bin, "serve", "--listen", addr)
	r.cmd.Dir, r.cmd.Env = dir, env
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		if t.Failed() {
			t.Logf("replica %s log:\n%s", name, r.log.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(r.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s never became ready", name)
		}
	}
}

// call sends a JSON request and decodes the JSON answer into out.
func call(t *testing.T, r *replica, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if strings.HasPrefix(path, "/scim/") {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s on %s: %v", method, path, r.name, err)
		return 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s on %s = %d: %s", method, path, r.name, resp.StatusCode, data)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Errorf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func scimUser(userName string) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName, "active": true}
}

func createToken(t *testing.T, r *replica, admin, name, role string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if status := call(t, r, admin, "POST", "/api/v1/tokens", map[string]any{"name": name, "role": role}, &out); status != http.StatusCreated || out.Token == "" {
		t.Fatalf("create token = %d", status)
	}
	return out.Token
}

func createSource(t *testing.T, r *replica, admin, name, usersPath, schedule string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": name, "kind": "csv", "enabled": true, "schedule": schedule,
		"settings": map[string]any{"usersPath": usersPath}}
	if status := call(t, r, admin, "POST", "/api/v1/sources", body, &out); status != http.StatusCreated || out.ID == "" {
		t.Fatalf("create source = %d", status)
	}
	return out.ID
}

func writeUsersCSV(t *testing.T, path, prefix string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("externalId,userName,givenName,familyName,displayName,email,active\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%d,%s%d@example.com,Given%d,Family%d,User %d,%s%d@example.com,true\n", prefix, i, prefix, i, i, i, i, prefix, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type runInfo struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Trigger string    `json:"trigger"`
	Queued  time.Time `json:"queued"`
	Error   string    `json:"error"`
	Counts  struct {
		Created   int `json:"created"`
		Updated   int `json:"updated"`
		Unchanged int `json:"unchanged"`
	} `json:"counts"`
}

// waitRuns waits until the source has n finished runs and returns them,
// newest first; it fails if more than n runs appear.
func waitRuns(t *testing.T, r *replica, admin, src string, n int, limit time.Duration) []runInfo {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(time.Second) {
		var list struct {
			Runs []runInfo `json:"runs"`
		}
		call(t, r, admin, "GET", "/api/v1/sources/"+src+"/runs", nil, &list)
		if len(list.Runs) > n {
			t.Fatalf("%d runs, want %d: %+v", len(list.Runs), n, list.Runs)
		}
		finished := 0
		for _, run := range list.Runs {
			if run.Status != "queued" && run.Status != "running" {
				finished++
			}
		}
		if finished == n {
			return list.Runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: runs %+v, want %d finished", limit, list.Runs, n)
		}
	}
}

func waitRun(t *testing.T, r *replica, admin, src, id string, limit time.Duration) runInfo {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(200 * time.Millisecond) {
		var run runInfo
		call(t, r, admin, "GET", "/api/v1/sources/"+src+"/runs/"+id, nil, &run)
		if run.Status != "queued" && run.Status != "running" && run.Status != "" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s not finished after %s: %+v", id, limit, run)
		}
	}
}
