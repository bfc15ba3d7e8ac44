package entra_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func TestStaleDeltaTokenTriggersFullResync(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stale func(tn *tenant)
	}{
		{"410 Gone with Location", func(tn *tenant) { tn.InvalidateDeltaTokens(graphtest.StaleGone) }},
		{"400 syncStateNotFound", func(tn *tenant) { tn.InvalidateDeltaTokens(graphtest.StaleNotFound) }},
		{"400 resyncRequired", func(tn *tenant) { tn.InvalidateDeltaTokens(graphtest.StaleResync) }},
		{"older than seven days", func(tn *tenant) { tn.clock.Advance(8 * 24 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{UserPageSize: 40})
			seed := tn.Seed(graphtest.SeedOptions{Users: 120, Groups: 4})
			src := tn.open(t, tn.config())
			_, first := mustSync(t, src, nil)
			tn.DisableUser(seed.Users[7])
			tc.stale(tn)
			rec, res := mustSync(t, src, first.Cursor)
			if !res.Complete || !reflect.DeepEqual(res.Notes, []string{"delta token expired: full resync"}) {
				t.Fatalf("result = %+v", res)
			}
			if len(rec.UsersByKey()) != 120 || len(rec.GroupsByKey()) != 4 || rec.UsersByKey()[seed.Users[7]].Attrs["active"] != "false" {
				t.Errorf("resync sent %d users, %d groups", len(rec.UsersByKey()), len(rec.GroupsByKey()))
			}
			// The new cursor works incrementally again.
			tn.EnableUser(seed.Users[7])
			rec, res = mustSync(t, src, res.Cursor)
			if res.Complete || len(rec.UsersByKey()) != 1 {
				t.Errorf("after resync: complete=%v, %d users", res.Complete, len(rec.UsersByKey()))
			}
		})
	}
}

func TestTokenGoingStaleMidRoundRestartsWithoutDuplicates(t *testing.T) {
	tn := newTenant(t, graphtest.Options{UserPageSize: 10})
	seed := tn.Seed(graphtest.SeedOptions{Users: 60, Groups: 3})
	src := tn.open(t, tn.config())
	_, first := mustSync(t, src, nil)
	for _, u := range seed.Users[:35] {
		tn.UpdateUser(u, map[string]any{"jobTitle": "Lead"})
	}
	// Graph answers the incremental round's third page with 410.
	n := tn.GraphRequests("")
	tn.After(n+3, func() { tn.InvalidateDeltaTokens(graphtest.StaleGone) })
	rec, res := mustSync(t, src, first.Cursor) // mustSync fails on a duplicate
	if !res.Complete || len(res.Notes) != 1 || len(rec.UsersByKey()) != 60 || rec.UsersByKey()[seed.Users[0]].Attrs["jobTitle"] != "Lead" {
		t.Fatalf("complete=%v notes=%v users=%d", res.Complete, res.Notes, len(rec.UsersByKey()))
	}
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		retryAfter time.Duration
		n          int
	}{
		{"429 storm", http.StatusTooManyRequests, 7 * time.Second, 6},
		{"503 with Retry-After", http.StatusServiceUnavailable, 30 * time.Second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{UserPageSize: 25})
			tn.Seed(graphtest.SeedOptions{Users: 100, Groups: 3})
			src := tn.open(t, tn.config())
			tn.After(2, func() { tn.Throttle(tc.n, tc.status, tc.retryAfter) })
			rec, res := mustSync(t, src, nil)
			if !res.Complete || len(rec.UsersByKey()) != 100 {
				t.Fatalf("complete=%v users=%d", res.Complete, len(rec.UsersByKey()))
			}
			if early := tn.EarlyRetries(); early != 0 {
				t.Errorf("%d requests came before Retry-After was over", early)
			}
			want := slices.Repeat([]time.Duration{tc.retryAfter}, tc.n)
			if got := tn.clock.Sleeps(); !reflect.DeepEqual(got, want) {
				t.Errorf("waits = %v, want exactly %v", got, want)
			}
		})
	}
}

func TestThrottlingWithoutRetryAfterBacksOff(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	tn.Seed(graphtest.SeedOptions{Users: 10, Groups: 1})
	tn.Throttle(4, http.StatusTooManyRequests, 0)
	mustSync(t, tn.open(t, tn.config()), nil)
	sleeps := tn.clock.Sleeps()
	if len(sleeps) != 4 {
		t.Fatalf("waits = %v", sleeps)
	}
	for i, d := range sleeps {
		lo := time.Second << i
		if d < lo || d > lo+lo/4 {
			t.Errorf("wait %d = %v, want %v to %v", i, d, lo, lo+lo/4)
		}
	}
}

func TestLongThrottlingIsWaitedOutNotFailed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(tn *tenant)
		want   []time.Duration
	}{
		// More throttled answers than a request has attempts: each is
		// waited out, the run does not fail.
		{"20 × 429, Retry-After 3s", func(tn *tenant) { tn.Throttle(20, http.StatusTooManyRequests, 3*time.Second) },
			slices.Repeat([]time.Duration{3 * time.Second}, 20)},
		{"12 × 503, Retry-After 10s", func(tn *tenant) { tn.Throttle(12, http.StatusServiceUnavailable, 10*time.Second) },
			slices.Repeat([]time.Duration{10 * time.Second}, 12)},
		{"429 with an HTTP-date", func(tn *tenant) { tn.ThrottleUntil(3, http.StatusTooManyRequests, 90*time.Second) },
			slices.Repeat([]time.Duration{90 * time.Second}, 3)},
		// Retry-After 0 still means "later", not a tight loop.
		{"429, Retry-After 0", func(tn *tenant) { tn.ThrottleUntil(3, http.StatusTooManyRequests, 0) },
			slices.Repeat([]time.Duration{time.Second}, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{})
			tn.Seed(graphtest.SeedOptions{Users: 10, Groups: 1})
			tc.inject(tn)
			rec, res := mustSync(t, tn.open(t, tn.config()), nil)
			if !res.Complete || len(rec.UsersByKey()) != 10 {
				t.Fatalf("complete=%v users=%d", res.Complete, len(rec.UsersByKey()))
			}
			if early := tn.EarlyRetries(); early != 0 {
				t.Errorf("%d requests came before Retry-After was over", early)
			}
			if got := tn.clock.Sleeps(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("waits = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestThrottlingPastTheMaxWaitFailsAndKeepsTheCursor(t *testing.T) {
	tn := newTenant(t, graphtest.Options{})
	seed := tn.Seed(graphtest.SeedOptions{Users: 10, Groups: 1})
	src := tn.open(t, tn.config())
	_, first := mustSync(t, src, nil)
	tn.DisableUser(seed.Users[3])
	tn.Throttle(1, http.StatusTooManyRequests, 20*time.Minute)
	_, res, err := syncOnce(t, src, first.Cursor)
	if err == nil || res.Cursor != nil {
		t.Fatalf("want a failed run without a cursor, got %+v %v", res, err)
	}
	var ge *entra.GraphError
	if !errors.As(err, &ge) || ge.Status != 429 || !strings.Contains(err.Error(), "request-id "+ge.RequestID) ||
		!strings.Contains(err.Error(), "asks to wait 20m0s more") || !strings.Contains(err.Error(), "15m0s a request may wait") {
		t.Errorf("error = %v", err)
	}
	if sleeps := tn.clock.Sleeps(); len(sleeps) != 0 {
		t.Errorf("slept %v before giving up; the wait was known to be too long", sleeps)
	}
	// The next run starts again from the old cursor and gets the change.
	rec, res := mustSync(t, src, first.Cursor)
	if res.Complete || len(rec.UsersByKey()) != 1 || rec.UsersByKey()[seed.Users[3]].Attrs["active"] != "false" {
		t.Errorf("retry run: complete=%v users=%v", res.Complete, rec.UsersByKey())
	}
}

func TestAccessTokenExpiringMidRunIsReplaced(t *testing.T) {
	tn := newTenant(t, graphtest.Options{UserPageSize: 20, TokenLifetime: func() time.Duration { return time.Hour }})
	tn.Seed(graphtest.SeedOptions{Users: 100, Groups: 2})
	src := tn.open(t, tn.config())
	tn.After(3, tn.ExpireAccessTokens) // revoked early, as Entra may
	rec, res := mustSync(t, src, nil)
	if !res.Complete || len(rec.UsersByKey()) != 100 {
		t.Fatalf("complete=%v users=%d", res.Complete, len(rec.UsersByKey()))
	}
	unauthorized := 0
	for _, r := range tn.Requests() {
		if r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized != 1 || tn.TokenRequests() != 2 {
		t.Errorf("401s = %d, token requests = %d; want 1 and 2", unauthorized, tn.TokenRequests())
	}
}

func TestAccessTokenIsRefreshedAheadOfExpiry(t *testing.T) {
	tn := newTenant(t, graphtest.Options{TokenLifetime: func() time.Duration { return time.Hour }})
	tn.Seed(graphtest.SeedOptions{Users: 5, Groups: 1})
	src := tn.open(t, tn.config())
	_, first := mustSync(t, src, nil)
	tn.clock.Advance(57 * time.Minute) // 3 minutes left: too close
	mustSync(t, src, first.Cursor)
	for _, r := range tn.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("a request went out with an expiring token: %+v", r)
		}
	}
	if tn.TokenRequests() != 2 {
		t.Errorf("token requests = %d, want 2", tn.TokenRequests())
	}
}

func TestRunCanceledMidwayReturnsTheError(t *testing.T) {
	tn := newTenant(t, graphtest.Options{UserPageSize: 10})
	tn.Seed(graphtest.SeedOptions{Users: 100, Groups: 2})
	src := tn.open(t, tn.config())
	ctx, cancel := context.WithCancel(context.Background())
	tn.After(4, cancel)
	_, err := src.Sync(ctx, sources.Request{}, &sourcetest.Recorder{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// panickingTransport panics on requests whose path contains path, as a bug
// on the way to Graph would.
type panickingTransport struct{ path string }

func (p panickingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.Contains(r.URL.Path, p.path) {
		panic("bug on the way to " + p.path)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Pages are fetched on a goroutine of the source's own, ahead of the one
// being handled; a panic there must come back from Sync as an error the
// engine fails the run with, not end the process.
func TestPanicWhileFetchingAPageIsReturned(t *testing.T) {
	for _, path := range []string{"/groups/delta", "/users/delta"} {
		t.Run(path, func(t *testing.T) {
			tn := newTenant(t, graphtest.Options{})
			tn.Seed(graphtest.SeedOptions{Users: 5, Groups: 1})
			cfg := tn.config()
			env := sources.Env{Clock: tn.clock, HTTPClient: &http.Client{Transport: panickingTransport{path: path}}}
			_, _, err := syncOnce(t, openWith(t, cfg, env), nil)
			var pe *sources.PanicError
			if !errors.As(err, &pe) || pe.Value != "bug on the way to "+path || len(pe.Stack) == 0 {
				t.Fatalf("Sync: err = %v, want the panic as a *sources.PanicError", err)
			}
		})
	}
}
