package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimgate/scimgate/storage"
)

// Metrics of outbound push, labelled by app name (bounded: apps are
// configured by admins).
const (
	MetricPushRequests  = "scimgate_push_requests_total" // {app, outcome}
	MetricPushRuns      = "scimgate_push_runs_total"     // {app, status}
	MetricPushObjects   = "scimgate_push_objects_total"  // {app, action}
	MetricPushLag       = "scimgate_push_lag_seconds"    // {app}
	MetricPushUnhealthy = "scimgate_push_unhealthy"      // {app}
)

// PushRequestOutcomes are the outcomes the push client reports for a
// request; anything else is counted as "other".
var PushRequestOutcomes = []string{"ok", "client_error", "server_error", "throttled", "network"}

// pushMetrics are the push's counters; the gauges are read from the
// store at scrape time (pushStateCollector).
type pushMetrics struct {
	requests *prometheus.CounterVec
	runs     *prometheus.CounterVec
	objects  *prometheus.CounterVec
}

func newPushMetrics() pushMetrics {
	return pushMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricPushRequests,
			Help: "Requests the outbound push sent to apps' SCIM endpoints, by app name and outcome: ok, client_error, server_error, throttled, network, other."},
			[]string{"app", "outcome"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricPushRuns,
			Help: "Push runs that ended, by app name and status (succeeded, failed, held, rejected); a held run counts again when it is decided."},
			[]string{"app", "status"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricPushObjects,
			Help: "Users and groups changed in apps' targets by push runs (dry runs excluded), by app name and action: created, updated, deactivated, deleted, conflicts, errors."},
			[]string{"app", "action"}),
	}
}

// registerPush exports the push counters (which exist either way, so the
// hooks never find them missing) and the gauges read from ps.
func (m *metrics) registerPush(apps storage.AppStore, clock storage.Clock, ps storage.PushStore) {
	m.reg.MustRegister(m.push.requests, m.push.runs, m.push.objects, newPushStateCollector(apps, clock, ps))
}

// ObservePushRequest counts one request the push client sent to app's
// target (the client's Observe hook, wired per app by the command).
func (s *Server) ObservePushRequest(app, outcome string) {
	if !slices.Contains(PushRequestOutcomes, outcome) {
		outcome = upstreamOther
	}
	s.metrics.push.requests.WithLabelValues(app, outcome).Inc()
}

// ObservePushRun is told about every push run that ended or was held
// (the push runner's Observe hook).
func (s *Server) ObservePushRun(app storage.App, run storage.Run) {
	s.metrics.push.runs.WithLabelValues(app.Name, string(run.Status)).Inc()
	if run.DryRun {
		return
	}
	s.metrics.countObjects(s.metrics.push.objects, app.Name, run)
}

// pushStateCollector reads each pushed app's state at scrape time: the
// lag (how long the oldest change to its view has waited to be pushed)
// and whether it is quarantined.
type pushStateCollector struct {
	apps           storage.AppStore
	clock          storage.Clock
	push           storage.PushStore
	lag, unhealthy *prometheus.Desc
}

func newPushStateCollector(apps storage.AppStore, clock storage.Clock, ps storage.PushStore) *pushStateCollector {
	return &pushStateCollector{apps: apps, clock: clock, push: ps,
		lag: prometheus.NewDesc(MetricPushLag,
			"Seconds the oldest change to each pushed app's view has waited to reach the app (0 when nothing waits).", []string{"app"}, nil),
		unhealthy: prometheus.NewDesc(MetricPushUnhealthy,
			"1 when an app's push is quarantined after failing too often, else 0.", []string{"app"}, nil),
	}
}

func (h *pushStateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- h.lag
	ch <- h.unhealthy
}

func (h *pushStateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), healthScrapeTimeout)
	defer cancel()
	apps, err := h.apps.ListApps(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(h.lag, fmt.Errorf("read apps: %w", err))
		return
	}
	states, err := h.push.ListPushStates(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(h.lag, fmt.Errorf("read push states: %w", err))
		return
	}
	byApp := make(map[string]storage.PushState, len(states))
	for _, st := range states {
		byApp[st.AppID] = st
	}
	now := h.clock.Now()
	for _, a := range apps {
		if a.Push == nil {
			continue
		}
		st := byApp[a.ID]
		lag := 0.0
		if !st.FirstChange.IsZero() {
			lag = max(now.Sub(st.FirstChange).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(h.lag, prometheus.GaugeValue, lag, a.Name)
		unhealthy := 0.0
		if st.Health.Unhealthy {
			unhealthy = 1
		}
		ch <- prometheus.MustNewConstMetric(h.unhealthy, prometheus.GaugeValue, unhealthy, a.Name)
	}
}
