package okta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// openFrom opens a source from kind, which may be shared with others (as
// the server's one okta kind is).
func openFrom(t testing.TB, kind sources.Kind, srv *oktatest.Server, settings map[string]any) sources.Source {
	t.Helper()
	all := map[string]any{"orgURL": srv.URL, "apiToken": testToken}
	for k, v := range settings {
		all[k] = v
	}
	raw, _ := json.Marshal(all)
	cfg := kind.New()
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(cfg); err != nil {
		t.Fatal(err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs.Err())
	}
	src, err := cfg.Open(orgEnv(srv))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// noEarlyReturn fails the test when any request reached a bucket before
// the reset a 429 of that bucket had announced.
func noEarlyReturn(t *testing.T, log []oktatest.Request) {
	t.Helper()
	notBefore := map[string]time.Time{}
	for i, r := range log {
		if nb, ok := notBefore[r.Bucket]; ok && r.At.Before(nb) {
			t.Errorf("request %d (%s %s) came at %v, before the announced reset %v", i, r.Method, r.Path, r.At, nb)
		}
		if r.Status == 429 && r.Reset.After(notBefore[r.Bucket]) {
			notBefore[r.Bucket] = r.Reset
		}
	}
}

func TestRunStartedInADrainedWindowWaitsForTheReset(t *testing.T) {
	cases := []struct {
		name    string
		window  time.Duration
		advance time.Duration // into the window before it is drained
	}{
		{"minute window", time.Minute, 20 * time.Second},
		{"minute window, last second", time.Minute, 59*time.Second + 900*time.Millisecond},
		{"short window", 2 * time.Second, 300 * time.Millisecond},
		{"short window, last instant", 2 * time.Second, 1999 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 2, "groups": 2}, Window: c.window})
			for i := range 300 { // two pages of users
				srv.AddUser(person(i))
			}
			srv.Clock().Advance(c.advance)
			srv.Spend("users", 2) // the previous run drained the window
			srv.Spend("groups", 2)

			rec, res := run(t, open(t, srv, map[string]any{"maxRateLimitWait": "5m"}), sources.Request{})

			if len(rec.Got.Users) != 300 {
				t.Fatalf("users = %d, want 300", len(rec.Got.Users))
			}
			st := srv.Stats()
			noEarlyReturn(t, st.Log)
			if st.OverBudget > 2 { // at most the first probe of each bucket
				t.Errorf("%d requests met a 429, want at most one per bucket: %+v", st.OverBudget, st.Log)
			}
			if !hasNote(res, "rate limits to reset") {
				t.Errorf("notes %q do not mention the wait", res.Notes)
			}
		})
	}
}

func TestRunsAndSourcesOnOneOrgShareItsBudget(t *testing.T) {
	for _, second := range []string{"the same source", "another source"} {
		t.Run(second, func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 2, "groups": 3}})
			for i := range 250 { // two pages of users, one of groups
				srv.AddUser(person(i))
			}
			later(srv, time.Hour+10*time.Second)
			kind := okta.Kind()
			first := openFrom(t, kind, srv, map[string]any{"rateLimitReserve": 0})
			next := first
			if second == "another source" {
				next = openFrom(t, kind, srv, map[string]any{"rateLimitReserve": 0, "groupFilter": nil})
			}
			run(t, first, sources.Request{Full: true}) // users: the whole budget
			srv.ResetStats()
			rec, res := run(t, next, sources.Request{Full: true})

			st := srv.Stats()
			if len(rec.Got.Users) != 250 || st.OverBudget != 0 {
				t.Errorf("users %d, 429s %d; want 250 users and no 429: the second run knows the budget is nearly spent", len(rec.Got.Users), st.OverBudget)
			}
			if !hasNote(res, "rate limits to reset") {
				t.Errorf("notes %q: the second run should have waited for the reset", res.Notes)
			}
		})
	}
}

func TestResetBeyondMaxRateLimitWaitFailsTheRunNamingTheWait(t *testing.T) {
	srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 2}, Window: 10 * time.Minute})
	srv.AddUser(person(1))
	srv.Spend("users", 2) // drained until 09:10:00

	rec := &sourcetest.Recorder{}
	res, err := open(t, srv, map[string]any{"maxRateLimitWait": "2m"}).Sync(context.Background(), sources.Request{}, rec)

	if !errors.Is(err, okta.ErrRateLimitWait) {
		t.Fatalf("err = %v, want ErrRateLimitWait", err)
	}
	for _, want := range []string{"users rate limit", "waiting 10m1s more", "maxRateLimitWait (2m0s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q does not say %q", err, want)
		}
	}
	if st := srv.Stats(); st.Requests != 1 || res.Cursor != nil {
		t.Errorf("%d requests, cursor %q; want only the first 429 and no cursor", st.Requests, res.Cursor)
	}
}

func TestManyThrottledRequestsNeverComeBackEarly(t *testing.T) {
	srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 1, "groups": 1, "group": 1}, Window: 5 * time.Second})
	srv.Seed(600, 20, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int { return []int{i % 20} })
	later(srv, time.Hour)
	srv.Spend("users", 1)
	srv.Spend("groups", 1)

	rec, _ := run(t, open(t, srv, map[string]any{"maxConcurrency": 4, "rateLimitReserve": 0, "maxRateLimitWait": "30m"}), sources.Request{})

	if len(rec.Got.Users) != 600 || len(rec.Got.Groups) != 20 {
		t.Fatalf("users %d, groups %d", len(rec.Got.Users), len(rec.Got.Groups))
	}
	st := srv.Stats()
	noEarlyReturn(t, st.Log)
	if st.OverBudget > 2 {
		t.Errorf("%d 429s, want at most the two first probes", st.OverBudget)
	}
}

func TestConcurrencyLimit429sAreWaitedOut(t *testing.T) {
	// Another integration holds the org's concurrency: each 429 announces
	// a reset a second away while the bucket's budget is far from spent.
	srv := newOrg(t, oktatest.Options{})
	srv.Seed(50, 40, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int { return []int{i % 40} })
	later(srv, time.Hour)
	srv.RefuseConcurrent(20)

	rec, _ := run(t, open(t, srv, map[string]any{"maxConcurrency": 4}), sources.Request{})

	st := srv.Stats()
	if len(rec.Got.Groups) != 40 {
		t.Fatalf("groups = %d", len(rec.Got.Groups))
	}
	noEarlyReturn(t, st.Log)
	if st.OverConcurrency != 20 {
		t.Errorf("%d requests refused for concurrency, want 20", st.OverConcurrency)
	}
}
