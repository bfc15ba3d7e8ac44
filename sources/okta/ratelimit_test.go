package okta_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/okta"
	"github.com/scimgate/scimgate/sources/okta/oktatest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// seedSmallOrg makes 900 users (five pages) and 12 groups of 3 members
// (13 requests in the groups bucket), created an hour before "now".
func seedSmallOrg(srv *oktatest.Server) {
	srv.Seed(900, 12, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int {
		if i < 36 {
			return []int{i / 3}
		}
		return nil
	})
	later(srv, time.Hour)
}

func TestTinyBudgetIsNeverOverrun(t *testing.T) {
	cases := []struct {
		reserve   int
		perWindow int // the most requests one bucket may see per minute
	}{
		{reserve: 0, perWindow: 3},
		{reserve: 10, perWindow: 2}, // 10% of 3, rounded up, is kept back
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("reserve=%d", c.reserve), func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 3, "groups": 3}})
			seedSmallOrg(srv)
			start := srv.Clock().Now()
			rec, res := run(t, open(t, srv, map[string]any{"rateLimitReserve": c.reserve, "maxConcurrency": 4}), sources.Request{})

			if len(rec.Got.Users) != 900 || len(rec.Got.Groups) != 12 {
				t.Fatalf("got %d users and %d groups", len(rec.Got.Users), len(rec.Got.Groups))
			}
			st := srv.Stats()
			if st.OverBudget != 0 || st.OverConcurrency != 0 {
				t.Errorf("requests sent while the budget was spent: %d (concurrency: %d)", st.OverBudget, st.OverConcurrency)
			}
			perMinute := map[string]int{}
			for _, r := range st.Log {
				perMinute[fmt.Sprintf("%s@%s", r.Bucket, r.At.Truncate(time.Minute).Format("15:04"))]++
			}
			for window, n := range perMinute {
				if n > c.perWindow {
					t.Errorf("%s saw %d requests, budget allows %d", window, n, c.perWindow)
				}
			}
			// 13 group requests at this pace need several windows.
			if waited := srv.Clock().Now().Sub(start); waited < time.Duration(13/c.perWindow-1)*time.Minute || !hasNote(res, "rate limits to reset") {
				t.Errorf("clock moved %v; notes %q", waited, res.Notes)
			}
		})
	}
}

// skewedClock is the client's clock, off from the server's by a fixed
// amount; sleeping moves the shared clock.
type skewedClock struct {
	*oktatest.Clock
	off time.Duration
}

func (c skewedClock) Now() time.Time { return c.Clock.Now().Add(c.off) }

func TestRateLimitedRequestWaitsForResetOnServerClock(t *testing.T) {
	for _, off := range []time.Duration{3 * time.Hour, -3 * time.Hour} {
		t.Run(fmt.Sprintf("client clock off by %v", off), func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 5}})
			srv.AddUser(person(1))
			srv.Clock().Advance(20 * time.Second) // 09:00:20; the window resets at 09:01:00
			srv.Spend("users", 5)                 // another integration used the budget up
			src := open(t, srv, nil, withClock(skewedClock{srv.Clock(), off}))

			rec, _ := run(t, src, sources.Request{})

			if len(rec.Got.Users) != 1 {
				t.Fatalf("users = %d", len(rec.Got.Users))
			}
			var userCalls []oktatest.Request
			for _, r := range srv.Stats().Log {
				if r.Bucket == "users" {
					userCalls = append(userCalls, r)
				}
			}
			reset := time.Date(2026, 1, 5, 9, 1, 0, 0, time.UTC)
			// One 429 (the budget was unknown), then the retry after the
			// reset: had the client used its own clock, it would have
			// retried at once and met another 429.
			if len(userCalls) != 2 || userCalls[0].Status != 429 || userCalls[1].Status != 200 || userCalls[1].At.Before(reset) {
				t.Errorf("users requests = %+v, want a 429 then a 200 at or after %v", userCalls, reset)
			}
		})
	}
}

func TestRunThatCannotFinishWithinLimitsFailsCleanly(t *testing.T) {
	srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 1}})
	for i := range 600 {
		srv.AddUser(person(i))
	}
	src := open(t, srv, map[string]any{"maxRateLimitWait": "1m", "rateLimitReserve": 0})
	rec := &sourcetest.Recorder{}
	res, err := src.Sync(context.Background(), sources.Request{}, rec)

	if !errors.Is(err, okta.ErrRateLimitWait) || !strings.Contains(err.Error(), "maxRateLimitWait (1m0s)") {
		t.Fatalf("err = %v, want ErrRateLimitWait", err)
	}
	if res.Cursor != nil || len(rec.Got.Users) != 200 {
		t.Errorf("cursor %q, %d users read; want no cursor after the first page", res.Cursor, len(rec.Got.Users))
	}
	if st := srv.Stats(); st.OverBudget != 0 {
		t.Errorf("%d requests were sent over budget", st.OverBudget)
	}
}

func TestConcurrencyIsCapped(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			srv := newOrg(t, oktatest.Options{ConcurrencyLimit: limit})
			srv.Seed(50, 40, func(i int) oktatest.UserSpec { return person(i) }, func(i int) []int { return []int{i % 40} })
			rec, _ := run(t, open(t, srv, map[string]any{"maxConcurrency": limit}), sources.Request{})
			st := srv.Stats()
			if len(rec.Got.Groups) != 40 || st.OverConcurrency != 0 || st.PeakInFlight > limit {
				t.Errorf("groups %d, refused %d, peak %d; want 40, 0, at most %d", len(rec.Got.Groups), st.OverConcurrency, st.PeakInFlight, limit)
			}
		})
	}
}

func TestInterruptedRunLeavesTheOldPositionUsable(t *testing.T) {
	srv := newOrg(t, oktatest.Options{})
	var ids []string
	for i := range 10 {
		ids = append(ids, srv.AddUser(person(i)))
	}
	g := srv.AddGroup(oktatest.GroupSpec{Name: "Team"})
	later(srv, time.Hour)
	src := open(t, srv, nil)
	_, good := run(t, src, sources.Request{})

	later(srv, time.Minute)
	srv.UpdateUser(ids[1], map[string]any{"title": "Lead"})
	srv.UpdateUser(ids[2], map[string]any{"title": "Lead"})
	srv.AddMember(g, ids[3])

	t.Run("server errors halfway", func(t *testing.T) {
		srv.FailAfter(1) // the users page is served, the groups listing fails
		defer srv.FailAfter(-1)
		rec := &sourcetest.Recorder{}
		res, err := src.Sync(context.Background(), sources.Request{Cursor: good.Cursor}, rec)
		if err == nil || !strings.Contains(err.Error(), "E0000009") || res.Cursor != nil {
			t.Fatalf("err = %v, cursor %q; want a failed run without cursor", err, res.Cursor)
		}
		if len(rec.Got.Users) != 2 || len(rec.Got.Groups) != 0 {
			t.Errorf("before the failure: %d users, %d groups", len(rec.Got.Users), len(rec.Got.Groups))
		}
	})
	t.Run("canceled halfway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		rec := &sourcetest.Recorder{OnUsers: func(int) error { cancel(); return nil }}
		_, err := src.Sync(ctx, sources.Request{Cursor: good.Cursor}, rec)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("the next run starts from the old position", func(t *testing.T) {
		rec, res := run(t, src, sources.Request{Cursor: good.Cursor})
		if len(rec.Got.Users) != 2 || len(rec.Got.Groups) != 1 || rec.Got.Groups[0].Members[0] != ids[3] || res.Complete {
			t.Errorf("users %v, groups %+v", rec.UserKeys(), rec.Got.Groups)
		}
	})
}

func TestEveryRequestReachesTheUpstreamMetrics(t *testing.T) {
	srv := newOrg(t, oktatest.Options{RateLimits: map[string]int{"users": 5}})
	srv.AddUser(person(1))
	srv.Spend("users", 5) // the first users request meets a 429
	var mu sync.Mutex
	seen := map[sources.UpstreamOutcome]int{}
	observe := sources.UpstreamFunc(func(outcome sources.UpstreamOutcome) {
		mu.Lock()
		defer mu.Unlock()
		seen[outcome]++
	})
	if _, err := open(t, srv, nil, withUpstream(observe)).Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{}); err != nil {
		t.Fatal(err)
	}
	// 429, then users, groups: the org's own log must agree.
	want := map[sources.UpstreamOutcome]int{sources.UpstreamThrottled: 1, sources.UpstreamOK: 2}
	if fmt.Sprint(seen) != fmt.Sprint(want) || srv.Stats().Requests != 3 {
		t.Errorf("outcomes = %v (org saw %d requests), want %v", seen, srv.Stats().Requests, want)
	}
}
