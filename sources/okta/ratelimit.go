package okta

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// limiter keeps each rate-limit bucket's budget as Okta last reported it
// (X-Rate-Limit-Limit, -Remaining, -Reset on every response) and holds
// requests back before the budget runs out:
//
//   - a request goes out only while remaining, minus the requests already
//     in flight, stays above the reserve (rateLimitReserve percent of the
//     limit, left for other integrations sharing the org's budget);
//   - otherwise it waits until the reset plus a second. The reset is an
//     epoch second on Okta's clock and no Retry-After is ever sent, so each
//     answer's Reset is turned into our time through that same answer's
//     Date header (wait = Reset - Date): clock skew between us and Okta
//     does not matter;
//   - a 429 always means "not before the reset it announces", at least a
//     second away, even when that reset is already past (the concurrency
//     limit's Reset is "only a suggestion");
//   - when a window has passed, or before the first answer, one request
//     probes the bucket and the others wait for its headers;
//   - the waiting a run does is summed, and a run that would wait past
//     maxRateLimitWait stops with an error instead (its cursor is not
//     saved, so the next run picks up the same changes).
//
// The budgets belong to the org, not to a run: they live in an orgBudgets
// registry made by the kind, so a run started right after another one, or
// next to another source on the same org, knows what was already spent.
type limiter struct {
	clock   sources.Clock
	reserve int // percent
	maxWait time.Duration
	org     *orgBudget

	// waited and pauses are this run's; guarded by org.mu.
	waited time.Duration
	pauses int
}

// resetMargin is added to every announced reset, as Okta's own SDKs do:
// the Date header is truncated to the second.
const resetMargin = time.Second

// orgBudgets is the rate-limit state of every org the process talks to,
// shared by all sources and runs of one okta kind.
type orgBudgets struct {
	mu   sync.Mutex
	orgs map[string]*orgBudget
}

func newOrgBudgets() *orgBudgets { return &orgBudgets{orgs: map[string]*orgBudget{}} }

// org returns the budget of the org at orgURL, made on first use.
func (r *orgBudgets) org(orgURL string) *orgBudget {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.orgs[orgURL]
	if o == nil {
		o = &orgBudget{buckets: map[string]*bucket{}, changed: make(chan struct{})}
		r.orgs[orgURL] = o
	}
	return o
}

// orgBudget is one org's buckets.
type orgBudget struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	changed chan struct{} // closed and replaced on every change
}

type bucket struct {
	known     bool
	limit     int
	remaining int
	window    time.Time // the announced reset, on Okta's clock: names the window
	reset     time.Time // our clock: no request before it once the budget is spent
	hold      time.Time // our clock: no request before it, the last 429 said
	inflight  int
	sleeping  bool
	// untracked: answers come without rate-limit headers, so there is no
	// budget to keep to (only the concurrency cap applies).
	untracked bool
}

func newLimiter(clock sources.Clock, org *orgBudget, reservePercent int, maxWait time.Duration) *limiter {
	return &limiter{clock: clock, org: org, reserve: reservePercent, maxWait: maxWait}
}

// bucketFor names Okta's rate-limit bucket of a request, after the
// management rate-limit table (developer.okta.com/docs/reference/rl-global-mgmt):
// "/api/v1/groups except /api/v1/groups/{id}" is one bucket (so group
// member lists share the list-groups budget), "/api/v1/groups/{id} only"
// another, list users its own, and the token endpoint its own.
func bucketFor(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case strings.HasPrefix(path, "/oauth2/"):
		return "oauth2"
	case len(parts) < 3 || parts[0] != "api" || parts[1] != "v1":
		return "other"
	case parts[2] == "users" && len(parts) == 3:
		return "users"
	case parts[2] == "users" && len(parts) == 4 && method == http.MethodGet:
		return "user"
	case parts[2] == "groups" && len(parts) == 4:
		return "group"
	case parts[2] == "groups":
		return "groups"
	}
	return "api"
}

func (o *orgBudget) bucket(key string) *bucket {
	b := o.buckets[key]
	if b == nil {
		b = &bucket{}
		o.buckets[key] = b
	}
	return b
}

func (o *orgBudget) broadcast() {
	close(o.changed)
	o.changed = make(chan struct{})
}

// headroom is how many requests of the bucket's budget are never used.
func (l *limiter) headroom(b *bucket) int {
	if l.reserve == 0 {
		return 0
	}
	return (b.limit*l.reserve + 99) / 100
}

// acquire blocks until a request to the bucket may go out; release must
// follow.
func (l *limiter) acquire(ctx context.Context, key string) error {
	o := l.org
	o.mu.Lock()
	for {
		b := o.bucket(key)
		now := l.clock.Now()
		if b.known && !now.Before(b.reset) {
			b.known = false // a new window: the budget is full again, but unconfirmed
		}
		spare := b.remaining - b.inflight - l.headroom(b)
		// d is how long nothing may go out: until the reset once the
		// budget is spent, and until a 429's announced reset in any case.
		var d time.Duration
		if b.known && b.remaining-l.headroom(b) <= 0 {
			d = b.reset.Sub(now)
		}
		d = max(d, b.hold.Sub(now), 0)
		if !b.sleeping && d == 0 && (!b.known && (b.inflight == 0 || b.untracked) || b.known && spare > 0) {
			b.inflight++
			o.mu.Unlock()
			return nil
		}
		if !b.sleeping && d == 0 {
			// A probe or the requests in flight will tell us more.
			if err := o.wait(ctx); err != nil {
				return err
			}
			continue
		}
		// Nothing goes out before the reset.
		if l.waited+d > l.maxWait {
			err := &rateLimitWaitError{waited: l.waited, need: d, max: l.maxWait, bucket: key}
			o.mu.Unlock()
			return err
		}
		if d > 0 {
			l.pauses++
		}
		if b.sleeping {
			// Another request (maybe another run's) sleeps until the
			// reset: wait for it, and count the time that passes as ours.
			if err := o.wait(ctx); err != nil {
				return err
			}
			l.waited += max(l.clock.Now().Sub(now), 0)
			continue
		}
		b.sleeping = true
		o.mu.Unlock()
		err := l.clock.Sleep(ctx, d)
		o.mu.Lock()
		l.waited += d
		b.sleeping = false
		o.broadcast()
		if err != nil {
			o.mu.Unlock()
			return err
		}
	}
}

// wait releases o.mu until the next change or ctx's end; on success o.mu
// is held again.
func (o *orgBudget) wait(ctx context.Context) error {
	ch := o.changed
	o.mu.Unlock()
	select {
	case <-ch:
		o.mu.Lock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release ends a request and learns from its response (nil when the
// request failed before an answer).
func (l *limiter) release(key string, resp *http.Response) {
	o := l.org
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.bucket(key)
	b.inflight--
	defer o.broadcast()
	if resp == nil {
		return
	}
	now := l.clock.Now()
	limited := resp.StatusCode == http.StatusTooManyRequests
	h := resp.Header
	limit, err1 := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	resetSec, err3 := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		b.untracked = !limited
		if limited {
			// A 429 that does not say when to come back: wait a window.
			b.hold = later(b.hold, now.Add(time.Minute))
		}
		return
	}
	b.untracked = false
	window := time.Unix(resetSec, 0)
	// The reset in our time: how far it lies past the answer's own Date.
	// Without a Date, the reset is taken as our clock's.
	resetAt := window.Add(resetMargin)
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		resetAt = now.Add(window.Sub(date)).Add(resetMargin)
	}
	if limited {
		// Also on the concurrency limit, whose headers report that limit
		// and a Reset that may already be past: never come back at once.
		resetAt = later(resetAt, now.Add(resetMargin))
		b.hold = later(b.hold, resetAt)
		if !b.known || !window.Before(b.window) {
			// The budget itself is spent (a concurrency 429 announces an
			// earlier reset than the window's and leaves the budget be).
			b.known, b.remaining, b.window, b.reset = true, 0, window, resetAt
		}
		return
	}
	switch {
	case !b.known || window.After(b.window):
		b.known, b.limit, b.remaining, b.window, b.reset = true, limit, remaining, window, resetAt
	case window.Equal(b.window):
		// Answers can arrive out of order: the lowest count is the latest.
		b.limit, b.remaining, b.reset = limit, min(b.remaining, remaining), later(b.reset, resetAt)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// stats reports the run's total rate-limit waiting.
func (l *limiter) stats() (waited time.Duration, pauses int) {
	l.org.mu.Lock()
	defer l.org.mu.Unlock()
	return l.waited, l.pauses
}
