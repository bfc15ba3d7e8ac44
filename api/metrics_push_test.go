package api_test

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestPushMetrics: the push client's and runner's hooks count requests
// by outcome (unknown outcomes as other), runs by status and objects by
// action (a held run's approval adds only its removals, dry runs
// nothing); the lag and quarantine gauges are read from the store at
// scrape time on the store's clock.
func TestPushMetrics(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	st, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "scimgate.db"), sqlstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ps, ok := any(st).(storage.PushStore)
	if !ok {
		t.Fatal("the store keeps no push bookkeeping (storage.PushStore)")
	}
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	ctx := t.Context()
	push := &storage.PushConfig{URL: "http://127.0.0.1:9/scim/v2", Auth: storage.PushAuth{Type: storage.PushAuthBearer}, Enabled: true}
	crm, err := st.CreateApp(ctx, storage.App{Name: "crm", Groups: storage.GroupsScope, Scope: storage.AppScope{IncludeInactive: true}, Push: push})
	if err != nil {
		t.Fatal(err)
	}
	slack, err := st.CreateApp(ctx, storage.App{Name: "slack", Groups: storage.GroupsScope, Scope: storage.AppScope{IncludeInactive: true}, Push: push})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateApp(ctx, storage.App{Name: "pulled", Groups: storage.GroupsScope}); err != nil {
		t.Fatal(err)
	}

	for _, o := range []string{"ok", "ok", "throttled", "exploded"} {
		srv.ObservePushRequest("crm", o)
	}
	held := storage.Run{ID: "p1", SourceID: crm.ID, Status: storage.RunHeld, Counts: storage.RunCounts{Created: 3, Pending: 2}}
	approved := held
	approved.Status, approved.DecidedBy, approved.Counts.Deactivated, approved.Counts.Pending = storage.RunSucceeded, "ops", 2, 0
	dry := storage.Run{ID: "p2", SourceID: crm.ID, Status: storage.RunSucceeded, DryRun: true, Counts: storage.RunCounts{Created: 100}}
	for _, r := range []storage.Run{held, approved, dry} {
		srv.ObservePushRun(crm, r)
	}

	// A user joins the views: the change waits (both apps push); slack's
	// next run fails into quarantine.
	if _, err := st.CreateUser(ctx, storage.User{Owner: "scim:push", UserName: "ann", Active: true}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(42 * time.Second)
	run, err := ps.PushRuns().CreateRun(ctx, storage.Run{SourceID: slack.ID, Status: storage.RunRunning, Trigger: "change"})
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.Error = storage.RunFailed, "the target answered 500"
	if _, err := ps.PushRuns().FinishRun(ctx, run, false, func(h *storage.SourceHealth) {
		h.ConsecutiveFailures, h.Unhealthy = 5, true
	}); err != nil {
		t.Fatal(err)
	}

	samples := scrape(t, ts.URL)
	tests := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{api.MetricPushRequests, map[string]string{"app": "crm", "outcome": "ok"}, 2},
		{api.MetricPushRequests, map[string]string{"app": "crm", "outcome": "throttled"}, 1},
		{api.MetricPushRequests, map[string]string{"app": "crm", "outcome": "other"}, 1},
		{api.MetricPushRuns, map[string]string{"app": "crm", "status": "held"}, 1},
		{api.MetricPushRuns, map[string]string{"app": "crm", "status": "succeeded"}, 2},
		{api.MetricPushObjects, map[string]string{"app": "crm", "action": "created"}, 3},
		{api.MetricPushObjects, map[string]string{"app": "crm", "action": "deactivated"}, 2},
		{api.MetricPushLag, map[string]string{"app": "crm"}, 42},
		{api.MetricPushLag, map[string]string{"app": "slack"}, 42},
		{api.MetricPushUnhealthy, map[string]string{"app": "crm"}, 0},
		{api.MetricPushUnhealthy, map[string]string{"app": "slack"}, 1},
	}
	for _, tt := range tests {
		if got, ok := value(samples, tt.metric, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.metric, tt.labels, got, ok, tt.want)
		}
	}
	if _, ok := value(samples, api.MetricPushLag, map[string]string{"app": "pulled"}); ok {
		t.Error("an app without push has a push lag")
	}
}
