package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// Metric names, exported at GET /metrics (unauthenticated, like /healthz:
// scrapers rarely carry tokens; put the port behind your network policy
// if source names are sensitive). Label values are bounded: source names,
// run statuses, fixed actions and outcomes, and route templates — never
// raw URLs.
const (
	MetricSyncRuns           = "scimgate_sync_runs_total"                       // {source, status}
	MetricSyncRunDuration    = "scimgate_sync_run_duration_seconds"             // {source, status}
	MetricSyncObjects        = "scimgate_sync_objects_total"                    // {source, action}
	MetricSourceFailures     = "scimgate_source_consecutive_failures"           // {source}
	MetricSourceUnhealthy    = "scimgate_source_unhealthy"                      // {source}
	MetricSourceLastSuccess  = "scimgate_source_last_success_timestamp_seconds" // {source}
	MetricUpstreamRequests   = "scimgate_upstream_requests_total"               // {source, outcome}
	MetricHTTPRequests       = "scimgate_http_requests_total"                   // {method, route, code}
	MetricHTTPRequestSeconds = "scimgate_http_request_duration_seconds"         // {method, route, code}
)

// upstreamOther labels an upstream outcome that sources.UpstreamOutcomes
// does not list (see ObserveUpstream).
const upstreamOther = "other"

// metrics is the server's Prometheus instrumentation. It has a registry
// of its own, never the global default, so servers in parallel tests do
// not share series.
type metrics struct {
	reg         *prometheus.Registry
	handler     http.Handler
	runs        *prometheus.CounterVec
	runSeconds  *prometheus.HistogramVec
	objects     *prometheus.CounterVec
	upstream    *prometheus.CounterVec
	httpReqs    *prometheus.CounterVec
	httpSeconds *prometheus.HistogramVec
	push        pushMetrics // registered only with a push store

	mu sync.Mutex
	// heldCounted remembers the counts already added for a held run, so
	// its approval adds only the deletions, not the whole run again.
	heldCounted map[string]storage.RunCounts
}

func newMetrics(store storage.SourceStore, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSyncRuns,
			Help: "Sync runs that ended, by source name and status (succeeded, failed, held, rejected); a held run counts again when it is decided."},
			[]string{"source", "status"}),
		runSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricSyncRunDuration,
			Help: "Duration of sync runs from start to end (or to being held), by source name and status; decisions on held runs are not timed.",
			// Half a second to a little over two hours.
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 15)},
			[]string{"source", "status"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSyncObjects,
			Help: "Users and groups changed by sync runs (dry runs excluded), by source name and action: created, updated, deactivated, deleted, conflicts, errors."},
			[]string{"source", "action"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricUpstreamRequests,
			Help: "Requests connectors made to upstream directories, by source name and outcome: ok, throttled, timeout, error, other."},
			[]string{"source", "outcome"}),
		httpReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricHTTPRequests,
			Help: "HTTP requests served, by method, route template (e.g. /api/v1/sources/:id, /scim/v2/*) and status code."},
			[]string{"method", "route", "code"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricHTTPRequestSeconds,
			Help:    "HTTP request latency, by method, route template and status code.",
			Buckets: prometheus.DefBuckets},
			[]string{"method", "route", "code"}),
		heldCounted: map[string]storage.RunCounts{},
	}
	m.reg.MustRegister(m.runs, m.runSeconds, m.objects, m.upstream, m.httpReqs, m.httpSeconds,
		newSourceHealthCollector(store),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A failing store read (source health) must not hide every other
	// metric: serve what was gathered and log the problem.
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	})
	return m
}

// observeRun records a run that ended or was held.
func (m *metrics) observeRun(source string, run storage.Run, now time.Time) {
	status := string(run.Status)
	m.runs.WithLabelValues(source, status).Inc()
	if run.DecidedBy == "" { // a decision's duration is the admin's, not the sync's
		start, end := run.Started, run.Finished
		if start.IsZero() {
			start = run.Queued
		}
		if end.IsZero() {
			end = now
		}
		m.runSeconds.WithLabelValues(source, status).Observe(max(end.Sub(start).Seconds(), 0))
	}
	if run.DryRun {
		return // nothing changed
	}
	m.countObjects(m.objects, source, run)
}

// countObjects adds what run changed to vec under owner. A held run's
// counts are remembered, so its approval adds only the removals.
func (m *metrics) countObjects(vec *prometheus.CounterVec, owner string, run storage.Run) {
	m.mu.Lock()
	prev := m.heldCounted[run.ID]
	if run.Status == storage.RunHeld {
		m.heldCounted[run.ID] = run.Counts
	} else {
		delete(m.heldCounted, run.ID)
	}
	m.mu.Unlock()
	cur := run.Counts
	for _, a := range []struct {
		action    string
		cur, prev int
	}{
		{"created", cur.Created, prev.Created},
		{"updated", cur.Updated, prev.Updated},
		{"deactivated", cur.Deactivated, prev.Deactivated},
		{"deleted", cur.Deleted, prev.Deleted},
		{"conflicts", cur.Conflicts, prev.Conflicts},
		{"errors", cur.Errors, prev.Errors},
	} {
		if d := a.cur - a.prev; d > 0 {
			vec.WithLabelValues(owner, a.action).Add(float64(d))
		}
	}
}

// ObserveUpstream counts one request a connector made to its upstream
// directory. The command's wiring hands it to the runner, which gives
// every source it opens an observer (sources.Env.Upstream) that calls it
// with the source's name. outcome is one of sources.UpstreamOutcomes;
// anything else is counted as "other", which keeps the label set bounded.
func (s *Server) ObserveUpstream(source string, outcome sources.UpstreamOutcome) {
	label := upstreamOther
	if slices.Contains(sources.UpstreamOutcomes, outcome) {
		label = string(outcome)
	}
	s.metrics.upstream.WithLabelValues(source, label).Inc()
}

// instrumentHTTP counts requests and times them by route template. It
// renders a returned error itself, so the status it records is the one
// the client gets.
func (s *Server) instrumentHTTP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path() // the template Echo matched, never the raw URL
		if route == "" {
			route = "unmatched"
		}
		labels := []string{knownMethod(c.Request().Method), route, strconv.Itoa(c.Response().Status)}
		s.metrics.httpReqs.WithLabelValues(labels...).Inc()
		s.metrics.httpSeconds.WithLabelValues(labels...).Observe(time.Since(start).Seconds())
		return nil
	}
}

// knownMethod keeps made-up methods from minting label values.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// serveMetrics answers GET /metrics in the Prometheus text format.
func (s *Server) serveMetrics(c echo.Context) error {
	s.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

// sourceHealthCollector reads every source's health from the store at
// scrape time, so the gauges are right after a restart and for sources
// that have not run since.
type sourceHealthCollector struct {
	store                            storage.SourceStore
	failures, unhealthy, lastSuccess *prometheus.Desc
}

func newSourceHealthCollector(store storage.SourceStore) *sourceHealthCollector {
	return &sourceHealthCollector{
		store: store,
		failures: prometheus.NewDesc(MetricSourceFailures,
			"Failed runs in a row of each source (0 after a success).", []string{"source"}, nil),
		unhealthy: prometheus.NewDesc(MetricSourceUnhealthy,
			"1 when a source has failed too often in a row to be called healthy, else 0.", []string{"source"}, nil),
		lastSuccess: prometheus.NewDesc(MetricSourceLastSuccess,
			"Unix time of each source's last successful run; absent for a source that never succeeded.", []string{"source"}, nil),
	}
}

func (h *sourceHealthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- h.failures
	ch <- h.unhealthy
	ch <- h.lastSuccess
}

// healthScrapeTimeout bounds the store read of one scrape.
const healthScrapeTimeout = 5 * time.Second

func (h *sourceHealthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), healthScrapeTimeout)
	defer cancel()
	srcs, err := h.store.ListSources(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(h.failures, fmt.Errorf("read source health: %w", err))
		return
	}
	for _, src := range srcs {
		hl := src.Health
		ch <- prometheus.MustNewConstMetric(h.failures, prometheus.GaugeValue, float64(hl.ConsecutiveFailures), src.Name)
		unhealthy := 0.0
		if hl.Unhealthy {
			unhealthy = 1
		}
		ch <- prometheus.MustNewConstMetric(h.unhealthy, prometheus.GaugeValue, unhealthy, src.Name)
		if !hl.LastSuccessAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(h.lastSuccess, prometheus.GaugeValue,
				float64(hl.LastSuccessAt.UnixNano())/1e9, src.Name)
		}
	}
}
