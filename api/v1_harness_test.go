package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// apiEnv is a server with the config API and a runner, over a real SQLite
// file, with every log line captured.
type apiEnv struct {
	URL     string
	Store   *sqlstore.Store
	DBPath  string
	Runner  *engine.Runner
	Pushes  *fakePushes // the push runner the server was given; nil without a push store
	Fake    *sourcetest.Dataset
	Sealer  *engine.Sealer
	Server  *api.Server
	Logs    *syncBuffer
	Admin   string
	Reader  string
	Writer  string
	Dir     string
	client  *http.Client
	seenRaw [][]byte // every response body, for leak checks
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const bootstrapToken = "bootstrap-admin-secret-for-tests"

func newAPIEnv(t *testing.T) *apiEnv { return newAPIEnvOn(t, "") }

// newAPIEnvOn is newAPIEnv over the database dsn ("": a SQLite file).
func newAPIEnvOn(t *testing.T, dsn string) *apiEnv {
	t.Helper()
	return newAPIEnvWith(t, apitest.Options{DSN: dsn})
}

// newAPIEnvWith is newAPIEnv with opts; its logger, bootstrap token and
// push runner are the harness's own.
func newAPIEnvWith(t *testing.T, opts apitest.Options) *apiEnv {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := &sourcetest.Dataset{}
	var pushes *fakePushes
	app := apitest.New(t, sources.Registry{"csv": csv.Kind(), "fake": sourcetest.Kind(fake)},
		apitest.Options{Logger: logger, BootstrapAdminToken: bootstrapToken, DSN: opts.DSN, Console: opts.Console,
			Pushes: func(st *sqlstore.Store, _ *engine.Sealer) outbound.Pushes {
				if pushes = newFakePushes(st); pushes == nil {
					return nil
				}
				return pushes
			}})
	return &apiEnv{URL: app.URL, Store: app.Store, DBPath: app.DBPath, Runner: app.Runner, Pushes: pushes, Sealer: app.Sealer, Server: app.Server, Fake: fake, Logs: logs,
		Admin: app.Admin, Reader: app.Reader, Writer: app.Writer, Dir: filepath.Dir(app.DBPath), client: app.Client}
}

// apiResp is a decoded response.
type apiResp struct {
	Status int
	Raw    []byte
	Body   map[string]any
	desc   string
}

func (r *apiResp) String() string {
	return fmt.Sprintf("%s -> %d %s", r.desc, r.Status, r.Raw)
}

// call sends a request; body is JSON-encoded unless it is a string.
func (e *apiEnv) call(t *testing.T, method, path, token string, body any) *apiResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	e.seenRaw = append(e.seenRaw, raw)
	r := &apiResp{Status: res.StatusCode, Raw: raw, desc: method + " " + path}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

func (r *apiResp) want(t *testing.T, status int) *apiResp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%v\nstatus = %d, want %d", r, r.Status, status)
	}
	return r
}

// wantErr checks the config API error shape.
func (r *apiResp) wantErr(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	r.want(t, status)
	eobj, _ := r.Body["error"].(map[string]any)
	if eobj == nil || eobj["code"] != code || eobj["message"] == "" {
		t.Fatalf("%v\nwant error code %q", r, code)
	}
	return eobj
}

func (r *apiResp) str(keys ...string) string {
	var v any = r.Body
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (r *apiResp) num(keys ...string) float64 {
	var v any = r.Body
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	f, _ := v.(float64)
	return f
}

// sync starts a run and waits until it is finished or held.
func (e *apiEnv) sync(t *testing.T, sourceID, query string) *apiResp {
	t.Helper()
	r := e.call(t, "POST", "/api/v1/sources/"+sourceID+"/sync"+query, e.Admin, nil).want(t, 202)
	runID := r.str("id")
	if runID == "" || r.str("status") != "queued" {
		t.Fatalf("%v: want a queued run with an id", r)
	}
	return e.waitRun(t, sourceID, runID)
}

func (e *apiEnv) waitRun(t *testing.T, sourceID, runID string) *apiResp {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := e.call(t, "GET", "/api/v1/sources/"+sourceID+"/runs/"+runID, e.Admin, nil).want(t, 200)
		switch r.str("status") {
		case "succeeded", "failed", "held", "rejected":
			if _, busy := e.Runner.Running(sourceID); !busy {
				return r
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", runID)
	return nil
}

func wantRunCounts(t *testing.T, r *apiResp, want map[string]float64) {
	t.Helper()
	counts, _ := r.Body["counts"].(map[string]any)
	for _, k := range []string{"fetched", "created", "updated", "unchanged", "deactivated", "deleted", "conflicts", "errors"} {
		got, ok := counts[k].(float64)
		if !ok {
			t.Errorf("counts.%s missing in %s", k, r.Raw)
			continue
		}
		if got != want[k] {
			t.Errorf("counts.%s = %v, want %v (run %s)", k, got, want[k], r.Raw)
		}
	}
}

// writeFile writes content to name in the env's directory.
func (e *apiEnv) writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.Dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// scimList GETs a SCIM list with the reader token and returns userName ->
// resource.
func (e *apiEnv) scimUsers(t *testing.T, filter string) map[string]map[string]any {
	t.Helper()
	q := "/scim/v2/Users?count=1000"
	if filter != "" {
		q += "&filter=" + url.QueryEscape(filter)
	}
	r := e.call(t, "GET", q, e.Reader, nil).want(t, 200)
	out := map[string]map[string]any{}
	list, _ := r.Body["Resources"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out[m["userName"].(string)] = m
	}
	return out
}
