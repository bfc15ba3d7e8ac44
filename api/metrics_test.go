package api_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape GETs /metrics (no token) and parses the samples.
func scrape(t *testing.T, baseURL string) []sample {
	t.Helper()
	res, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %s", res.Status)
	}
	var out []sample
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue // comments, blank lines
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("bad sample %q: %v", sc.Text(), err)
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// value returns the sample with this name whose labels include want.
func value(samples []sample, name string, want map[string]string) (float64, bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		return s.value, true
	}
	return 0, false
}

func TestMetricsAfterSyncAndRequests(t *testing.T) {
	e := newAPIEnv(t)
	users := e.writeFile(t, "users.csv", usersCSV(0, 10, engineer))
	id := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr-export", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201).str("id")
	if run := e.sync(t, id, ""); run.str("status") != "succeeded" {
		t.Fatalf("run: %s", run.Raw)
	}
	e.writeFile(t, "users.csv", "externalId,userName,shoeSize\n1,a@example.com,9\n")
	if run := e.sync(t, id, ""); run.str("status") != "failed" {
		t.Fatalf("run: %s", run.Raw)
	}
	e.call(t, "POST", "/api/v1/sources/"+id+"/test", e.Admin, nil).want(t, 200)
	e.call(t, "GET", "/scim/v2/Users?count=5", e.Reader, nil).want(t, 200)
	e.call(t, "GET", "/scim/v2/Users?count=5", e.Reader, nil).want(t, 200)
	e.call(t, "GET", "/scim/v2/Groups", "", nil).want(t, 401)
	e.call(t, "GET", "/api/v1/sources/"+id, e.Admin, nil).want(t, 200)
	e.call(t, "GET", "/api/v1/sources/nope", e.Admin, nil).want(t, 404)
	e.call(t, "GET", "/no/such/path/"+id, "", nil).want(t, 404)

	samples := scrape(t, e.URL)
	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"succeeded run", api.MetricSyncRuns, map[string]string{"source": "hr-export", "status": "succeeded"}, 1},
		{"failed run", api.MetricSyncRuns, map[string]string{"source": "hr-export", "status": "failed"}, 1},
		{"timed runs", api.MetricSyncRunDuration + "_count", map[string]string{"source": "hr-export", "status": "succeeded"}, 1},
		// Each run opens the users file (csv's upstream request) to check
		// it; the good run opens it again to stream; the test connection
		// opens it once more.
		{"upstream requests", api.MetricUpstreamRequests, map[string]string{"source": "hr-export", "outcome": "ok"}, 4},
		{"created users", api.MetricSyncObjects, map[string]string{"source": "hr-export", "action": "created"}, 10},
		{"failures in a row", api.MetricSourceFailures, map[string]string{"source": "hr-export"}, 1},
		{"not yet unhealthy", api.MetricSourceUnhealthy, map[string]string{"source": "hr-export"}, 0},
		{"scim lists", api.MetricHTTPRequests, map[string]string{"method": "GET", "route": "/scim/v2/*", "code": "200"}, 2},
		{"scim unauthorized", api.MetricHTTPRequests, map[string]string{"method": "GET", "route": "/scim/v2/*", "code": "401"}, 1},
		{"source by template", api.MetricHTTPRequests, map[string]string{"method": "GET", "route": "/api/v1/sources/:id", "code": "200"}, 1},
		{"missing source", api.MetricHTTPRequests, map[string]string{"method": "GET", "route": "/api/v1/sources/:id", "code": "404"}, 1},
		{"source create", api.MetricHTTPRequests, map[string]string{"method": "POST", "route": "/api/v1/sources", "code": "201"}, 1},
		{"unknown path", api.MetricHTTPRequests, map[string]string{"method": "GET", "route": "unmatched", "code": "404"}, 1},
		{"latency", api.MetricHTTPRequestSeconds + "_count", map[string]string{"method": "GET", "route": "/api/v1/sources/:id", "code": "200"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := value(samples, tt.metric, tt.labels)
			if !ok || got != tt.want {
				t.Errorf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
			}
		})
	}
	if _, ok := value(samples, api.MetricSourceLastSuccess, map[string]string{"source": "hr-export"}); !ok {
		t.Errorf("no %s for a source that succeeded once", api.MetricSourceLastSuccess)
	}
	// Routes are templates: no label carries a raw path with an id.
	for _, s := range samples {
		for k, v := range s.labels {
			if strings.Contains(v, id) {
				t.Errorf("%s has a raw URL in label %s=%q", s.name, k, v)
			}
		}
	}
}

// TestObserveRunCountsHeldRunsOnce feeds runs to the hooks directly: a
// held run and its approval add up to the run's totals, a dry run changes
// no object counter, and unknown upstream outcomes are folded into one.
func TestObserveRunCountsHeldRunsOnce(t *testing.T) {
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "scimgate.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	src := storage.Source{ID: "s1", Name: "entra"}
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	held := storage.Run{ID: "r1", Status: storage.RunHeld, Started: start,
		Counts: storage.RunCounts{Created: 5, Updated: 2, Pending: 4}}
	approved := held
	approved.Status, approved.DecidedBy, approved.Finished = storage.RunSucceeded, "ops", start.Add(48*time.Hour)
	approved.Counts.Deactivated, approved.Counts.Pending = 4, 0
	dry := storage.Run{ID: "r2", Status: storage.RunSucceeded, DryRun: true, Started: start, Finished: start.Add(time.Second),
		Counts: storage.RunCounts{Created: 100}}
	for _, r := range []storage.Run{held, approved, dry} {
		srv.ObserveRun(src, r)
	}
	srv.ObserveUpstream("entra", sources.UpstreamThrottled)
	srv.ObserveUpstream("entra", sources.UpstreamThrottled)
	srv.ObserveUpstream("entra", "exploded")

	samples := scrape(t, ts.URL)
	tests := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{api.MetricSyncObjects, map[string]string{"source": "entra", "action": "created"}, 5},
		{api.MetricSyncObjects, map[string]string{"source": "entra", "action": "updated"}, 2},
		{api.MetricSyncObjects, map[string]string{"source": "entra", "action": "deactivated"}, 4},
		{api.MetricSyncRuns, map[string]string{"source": "entra", "status": "held"}, 1},
		{api.MetricSyncRuns, map[string]string{"source": "entra", "status": "succeeded"}, 2},
		// The approval is not timed: its duration is the admin's wait.
		{api.MetricSyncRunDuration + "_count", map[string]string{"source": "entra", "status": "succeeded"}, 1},
		{api.MetricSyncRunDuration + "_sum", map[string]string{"source": "entra", "status": "succeeded"}, 1},
		{api.MetricUpstreamRequests, map[string]string{"source": "entra", "outcome": "throttled"}, 2},
		{api.MetricUpstreamRequests, map[string]string{"source": "entra", "outcome": "other"}, 1},
	}
	for _, tt := range tests {
		if got, ok := value(samples, tt.metric, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
		}
	}
}
