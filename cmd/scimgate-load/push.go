package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

// The -push mode measures outbound push (issue 16) into a second scimgate
// on loopback: the target's own ingest of the first push's requests (the
// baseline), the first push, an incremental push after 1% of the users
// changed, and a leaver's latency through the scheduler's after-change
// debounce. Each figure is one line with its ratio to the target.
//
//	go build -o /tmp/sgload ./cmd/scimgate-load && /tmp/sgload -push -users 10000 -groups 200

type pushOptions struct {
	users, groups, members int
	// concurrency is the engine's and the baseline's requests in flight
	// (0: the engine's default).
	concurrency int
	pageSize    int // the engine's page (0: its default)
	afterChange int // the app's afterChangeSeconds for the leaver
	// sharedTransport gives every run's SCIM client one HTTP client,
	// instead of each its own (the SCIM client's default).
	sharedTransport bool
	dir             string // working directory (default: a temporary one)
	pprofDir        string // CPU profiles of the first push (engine, target)
}

// engineDefaultConcurrency is outbound.EngineOptions' default Concurrency,
// which the baseline matches when -push-conc is not given.
const engineDefaultConcurrency = 4

// pushFigures are the measured figures (the test reads them).
type pushFigures struct {
	baselineRate, pushRate float64 // objects/s
	incrRequests, incrWant int
	incrMethods            map[string]int
	incrWall               time.Duration
	leaver                 time.Duration
}

func pushMain(ctx context.Context, o pushOptions, w io.Writer) (pushFigures, error) {
	var fig pushFigures
	switch {
	case o.users < 2:
		return fig, fmt.Errorf("-users %d: the push needs at least 2 users (one of them leaves)", o.users)
	case o.groups < 0 || o.members < 1:
		return fig, fmt.Errorf("-groups %d -members %d: want 0 or more groups of 1 or more members", o.groups, o.members)
	case o.afterChange < 1:
		return fig, fmt.Errorf("-after-change %d: want 1 second or more (0 turns the after-change push off)", o.afterChange)
	}
	if o.concurrency <= 0 {
		o.concurrency = engineDefaultConcurrency
	}
	dir := o.dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scimgate-load-push-")
		if err != nil {
			return fig, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fig, err
	}
	if o.pprofDir != "" {
		if err := os.MkdirAll(o.pprofDir, 0o755); err != nil {
			return fig, err
		}
	}
	prof := func(name string) string {
		if o.pprofDir == "" {
			return ""
		}
		return filepath.Join(o.pprofDir, name)
	}
	target, err := startPushTarget(ctx, dir, "target", prof("target.pprof"))
	if err != nil {
		return fig, err
	}
	defer target.stop()
	loadStart := time.Now()
	src, err := openPushSource(ctx, dir, o, target)
	if err != nil {
		return fig, err
	}
	defer src.close()
	objects := len(src.users) + len(src.groups)
	fmt.Fprintf(w, "push: users=%d groups=%d (%d members on average) concurrency=%d GOMAXPROCS=%d, loaded in %s, load average %s\n",
		o.users, o.groups, o.members, o.concurrency, runtime.GOMAXPROCS(0), time.Since(loadStart).Round(time.Millisecond), loadAverage())

	// a. The target's own ingest of the same requests, into a fresh target.
	base, err := startPushTarget(ctx, dir, "baseline", "")
	if err != nil {
		return fig, err
	}
	n, d, err := src.baseline(ctx, base, o.concurrency)
	base.stop()
	if err != nil {
		return fig, err
	}
	fig.baselineRate = float64(n) / d.Seconds()
	fmt.Fprintf(w, "%-72s %8.0f objects/s  (%d objects in %s)\n", "a. target's own ingest (POST users, POST+PATCH groups)", fig.baselineRate, n, d.Round(time.Millisecond))

	// b. The first push, full, into the empty target.
	stopProf, err := startCPUProfile(prof("engine.pprof"))
	if err != nil {
		return fig, err
	}
	run, d, err := src.push(ctx, true)
	stopProf()
	if err != nil {
		return fig, fmt.Errorf("first push: %w", err)
	}
	if run.Counts.Created != objects {
		return fig, fmt.Errorf("first push created %d objects, want %d (counts %+v)", run.Counts.Created, objects, run.Counts)
	}
	fig.pushRate = float64(objects) / d.Seconds()
	fmt.Fprintf(w, "%-72s %8.0f objects/s  (%d objects in %s) %.2fx of a (target >= 0.5x) %s\n", "b. first push (full) into the empty target",
		fig.pushRate, objects, d.Round(time.Millisecond), fig.pushRate/fig.baselineRate, verdict(fig.pushRate/fig.baselineRate >= 0.5))
	if err := src.checkTarget(ctx, target); err != nil {
		return fig, fmt.Errorf("after the first push: %w", err)
	}
	fmt.Fprintf(w, "   checked: the target holds exactly %d users and %d groups, no duplicates, every group's members\n", len(src.users), len(src.groups))

	// c. 1% of the users changed and a few membership edits: incremental.
	want, err := src.change(ctx)
	if err != nil {
		return fig, err
	}
	before, err := target.requests(ctx)
	if err != nil {
		return fig, err
	}
	if stopProf, err = startCPUProfile(prof("incremental.pprof")); err != nil {
		return fig, err
	}
	_, fig.incrWall, err = src.push(ctx, false)
	stopProf()
	if err != nil {
		return fig, fmt.Errorf("incremental push: %w", err)
	}
	after, err := target.requests(ctx)
	if err != nil {
		return fig, err
	}
	fig.incrMethods, fig.incrRequests = requestDelta(before, after)
	fig.incrWant = want.requests()
	writes := fig.incrRequests - fig.incrMethods["GET"]
	fmt.Fprintf(w, "%-72s %8d requests: %d writes for %d changes (%d users + %d membership batches) %.2fx %s; %d GETs\n",
		fmt.Sprintf("c. incremental push: %d users edited, %d groups' members edited", want.users, want.groups),
		fig.incrRequests, writes, fig.incrWant, want.users, want.batches, float64(writes)/float64(max(fig.incrWant, 1)),
		verdict(writes == fig.incrWant), fig.incrMethods["GET"])
	fmt.Fprintf(w, "%-72s %8.2f s (target < 2 s) %s\n", "   its wall time", fig.incrWall.Seconds(), verdict(fig.incrWall < 2*time.Second))
	if err := src.checkChanged(ctx, target); err != nil {
		return fig, fmt.Errorf("after the incremental push: %w", err)
	}

	// d. A leaver, through the scheduler's after-change debounce.
	fig.leaver, err = src.leaver(ctx, target, o.afterChange)
	if err != nil {
		return fig, err
	}
	limit := time.Duration(o.afterChange+5) * time.Second
	fmt.Fprintf(w, "%-72s %8.2f s (target <= afterChangeSeconds %d + 5 s) %s\n", "d. leaver: deactivated in the source -> active false in the target",
		fig.leaver.Seconds(), o.afterChange, verdict(fig.leaver <= limit))
	fmt.Fprintf(w, "push: load average at the end %s\n", loadAverage())
	return fig, nil
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	var a, b5, c string
	fmt.Sscan(string(b), &a, &b5, &c)
	return a + " " + b5 + " " + c
}

// startCPUProfile profiles this process (the engine and its client) into
// path; "" does nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
