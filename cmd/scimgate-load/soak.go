package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// The soak: the real scimgate binary on loopback for a bounded time, 32
// SCIM clients reading and writing while a csv source, an emulated Okta
// org and an emulated Graph tenant (both throttling) sync on an interval.
// Must-be-zero figures: 5xx answers, acknowledged writes not found at the
// end, failed runs.
//
//	go run ./cmd/scimgate-load soak -duration 5m

type soakOptions struct {
	duration  time.Duration
	syncEvery time.Duration
	clients   int
	users     int    // per upstream directory
	scimgate  string // prebuilt binary; empty builds cmd/scimgate
}

// soakFigures is what a soak measured.
type soakFigures struct {
	requests, serverErrors, unexpected  int
	firstBad                            string
	writes, acknowledged, found         int
	firstMissing                        string
	peakRSS                             string
	runs                                map[string]map[string]int // kind -> status -> count
	runErrors                           map[string]string         // kind -> first failed run's error
	syncTriggers                        int
	okta429, graphThrottled, graphEarly int
	scim429                             int // per-token rate answers waited out
	// serverExit is the server's exit error (a race-built one exits 66 on
	// a data race) and serverLog its warn and error lines.
	serverExit error
	serverLog  string
}

// runFailures counts the failed runs of a source kind.
func (f soakFigures) runFailures(kind string) int { return f.runs[kind]["failed"] }

func soakMain(args []string, stdout io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var o soakOptions
	fs.DurationVar(&o.duration, "duration", 5*time.Minute, "how long the clients run")
	fs.DurationVar(&o.syncEvery, "sync-every", time.Minute, "interval of every source's sync (1m or more: the scheduler runs them; less: the soak starts them)")
	fs.IntVar(&o.clients, "clients", 32, "concurrent SCIM clients")
	fs.IntVar(&o.users, "users", 500, "users in each upstream directory at the start")
	fs.StringVar(&o.scimgate, "scimgate", "", "scimgate binary to run (default: go build ./cmd/scimgate)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fig, err := soak(context.Background(), o, stdout)
	printFigures(stdout, o, fig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimgate-load soak:", err)
		return 1
	}
	return 0
}

// soak runs one soak. The error reports a setup problem or a failed
// must-be-zero figure; the figures are filled as far as the run got.
func soak(ctx context.Context, o soakOptions, log io.Writer) (soakFigures, error) {
	fig := soakFigures{runs: map[string]map[string]int{}, runErrors: map[string]string{}}
	dir, err := os.MkdirTemp("", "scimgate-soak-")
	if err != nil {
		return fig, err
	}
	defer os.RemoveAll(dir)
	bin := o.scimgate
	if bin == "" {
		fmt.Fprintln(log, "building scimgate ...")
		if bin, err = buildScimgate(ctx, dir, false); err != nil {
			return fig, err
		}
	}
	up, err := startUpstreams(dir, o.users)
	if err != nil {
		return fig, err
	}
	defer up.close()
	work := dir + "/server"
	if err := os.Mkdir(work, 0o700); err != nil {
		return fig, err
	}
	srv, err := startSoakServer(ctx, bin, work, up.dir, fmt.Sprintf("soak-admin-%d", time.Now().UnixNano()), o.clients)
	if err != nil {
		return fig, err
	}
	defer srv.stop()

	// One writer token per client, as each SCIM client app has its own:
	// the server's per-token request rate applies to each.
	tokens := make([]string, o.clients)
	for n := range tokens {
		var tok struct{ Token string }
		if err := srv.adminCall(ctx, http.MethodPost, "/api/v1/tokens", map[string]string{"name": fmt.Sprintf("soak-client-%02d", n), "role": "writer"},
			http.StatusCreated, &tok); err != nil {
			return fig, err
		}
		tokens[n] = tok.Token
	}
	schedule := ""
	if o.syncEvery >= time.Minute {
		schedule = o.syncEvery.String()
	}
	ids, err := up.createSources(ctx, srv, schedule)
	if err != nil {
		return fig, err
	}
	fmt.Fprintf(log, "soak: %d clients for %s, sources syncing every %s, server %s\n", o.clients, o.duration, o.syncEvery, srv.base)

	runCtx, stopClients := context.WithTimeout(ctx, o.duration)
	defer stopClients()
	st := &clientStats{written: map[string]ackedUser{}}
	var wg sync.WaitGroup
	for n := range o.clients {
		wg.Add(1)
		go func() { defer wg.Done(); scimClient(runCtx, srv, tokens[n], n, st) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		fig.syncTriggers = driveSyncs(runCtx, srv, up, ids, o, schedule == "")
	}()
	wg.Wait()

	fig.requests, fig.serverErrors, fig.unexpected, fig.firstBad = st.requests, st.serverErrs, st.unexpected, st.firstBad
	fig.writes, fig.acknowledged = st.writes, len(st.written)
	fig.found, fig.firstMissing = readBack(ctx, srv, tokens, st.written)
	if err := countRuns(ctx, srv, ids, &fig); err != nil {
		return fig, err
	}
	fig.okta429, fig.graphThrottled, fig.graphEarly = up.throttleFigures()
	fig.scim429 = int(srv.throttled.Load())
	fig.peakRSS = procStatus(srv.cmd.Process.Pid, "VmHWM")
	fig.serverExit = srv.stop()
	fig.serverLog = srv.warnings()
	return fig, fig.check()
}

// driveSyncs churns the upstreams each interval and, when the scheduler
// does not run the sources (intervals under 1m), starts their runs.
func driveSyncs(ctx context.Context, s *soakServer, up *upstreams, ids map[string]string, o soakOptions, trigger bool) int {
	triggers := 0
	tick := time.NewTicker(o.syncEvery)
	defer tick.Stop()
	for {
		if trigger {
			for _, id := range ids {
				// 409 means the last run still runs (Okta waiting out its window).
				status, _, _ := s.call(ctx, http.MethodPost, "/api/v1/sources/"+id+"/sync", s.admin, nil)
				if status == http.StatusAccepted {
					triggers++
				}
			}
		}
		select {
		case <-ctx.Done():
			return triggers
		case <-tick.C:
		}
		up.churn(o.users)
	}
}

// countRuns tallies every source's runs by status.
func countRuns(ctx context.Context, s *soakServer, ids map[string]string, fig *soakFigures) error {
	for kind, id := range ids {
		var out struct {
			Runs []struct {
				Status, Error string
			}
		}
		if err := s.adminCall(ctx, http.MethodGet, "/api/v1/sources/"+id+"/runs?limit=200", nil, http.StatusOK, &out); err != nil {
			return err
		}
		fig.runs[kind] = map[string]int{}
		for _, r := range out.Runs {
			fig.runs[kind][r.Status]++
			if r.Status == "failed" && fig.runErrors[kind] == "" {
				fig.runErrors[kind] = r.Error
			}
		}
	}
	return nil
}

// check fails on any must-be-zero figure.
func (f soakFigures) check() error {
	var errs []error
	if f.serverExit != nil {
		errs = append(errs, fmt.Errorf("scimgate did not exit cleanly: %w", f.serverExit))
	}
	if f.serverErrors > 0 {
		errs = append(errs, fmt.Errorf("%d answers were 5xx or no answer (first: %s)", f.serverErrors, f.firstBad))
	}
	if f.found != f.acknowledged {
		errs = append(errs, fmt.Errorf("%d of %d acknowledged writes not found (first: %s)", f.acknowledged-f.found, f.acknowledged, f.firstMissing))
	}
	for _, kind := range sortedKeys(f.runs) {
		if n := f.runFailures(kind); n > 0 {
			errs = append(errs, fmt.Errorf("%d %s runs failed (first: %s)", n, kind, f.runErrors[kind]))
		}
	}
	return errors.Join(errs...)
}

func printFigures(w io.Writer, o soakOptions, f soakFigures) {
	fmt.Fprintf(w, "soak %s, %d clients, syncs every %s\n", o.duration, o.clients, o.syncEvery)
	fmt.Fprintf(w, "  requests            %d\n", f.requests)
	fmt.Fprintf(w, "  5xx                 %d (must be 0)\n", f.serverErrors)
	fmt.Fprintf(w, "  other unexpected    %d\n", f.unexpected)
	fmt.Fprintf(w, "  429 (token rate)    %d, each waited out for its Retry-After and retried\n", f.scim429)
	if f.firstBad != "" {
		fmt.Fprintf(w, "    first: %s\n", f.firstBad)
	}
	fmt.Fprintf(w, "  writes acknowledged %d (%d users' last states), found at the end %d (must be all)\n", f.writes, f.acknowledged, f.found)
	fmt.Fprintf(w, "  server peak RSS     %s\n", f.peakRSS)
	fmt.Fprintf(w, "  throttling          Okta 429s %d; Graph 429/503s %d, retried before Retry-After %d\n", f.okta429, f.graphThrottled, f.graphEarly)
	for _, kind := range sortedKeys(f.runs) {
		var parts []string
		for _, status := range sortedKeys(f.runs[kind]) {
			parts = append(parts, fmt.Sprintf("%s %d", status, f.runs[kind][status]))
		}
		fmt.Fprintf(w, "  %-5s runs          %s; failed %d (must be 0)\n", kind, strings.Join(parts, ", "), f.runFailures(kind))
		if e := f.runErrors[kind]; e != "" {
			fmt.Fprintf(w, "    first failure: %.300s\n", e)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
