package okta

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// limiter keeps each rate-limit bucket's budget as Okta last reported it
// (X-Rate-Limit-Limit, -Remaining, -Reset on every response) and holds
// requests back before the budget runs out:
//
//   - a request goes out only while remaining, minus the requests already
//     in flight, stays above the reserve (rateLimitReserve percent of the
//     limit, left for other integrations sharing the org's budget);
//   - otherwise it waits until the reset time plus a second, measured on
//     the server's clock: the offset between the Date header and our clock
//     is tracked, because Okta's Reset is an epoch second on its clock and
//     no Retry-After is ever sent;
//   - when a window has passed, or before the first answer, one request
//     probes the bucket and the others wait for its headers;
//   - the waiting a run does is summed, and a run that would wait past
//     maxRateLimitWait stops with an error instead (its cursor is not
//     saved, so the next run picks up the same changes).
type limiter struct {
	clock   Clock
	reserve int // percent
	maxWait time.Duration

	mu      sync.Mutex
	skew    time.Duration // server clock minus ours
	buckets map[string]*bucket
	waited  time.Duration
	pauses  int
	changed chan struct{} // closed and replaced on every change
}

type bucket struct {
	known     bool
	limit     int
	remaining int
	reset     time.Time // server clock
	inflight  int
	sleeping  bool
	// untracked: answers come without rate-limit headers, so there is no
	// budget to keep to (only the concurrency cap applies).
	untracked bool
}

func newLimiter(clock Clock, reservePercent int, maxWait time.Duration) *limiter {
	return &limiter{clock: clock, reserve: reservePercent, maxWait: maxWait, buckets: map[string]*bucket{}, changed: make(chan struct{})}
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

func (l *limiter) bucket(key string) *bucket {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{}
		l.buckets[key] = b
	}
	return b
}

func (l *limiter) serverNow() time.Time { return l.clock.Now().Add(l.skew) }

func (l *limiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
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
	l.mu.Lock()
	for {
		b := l.bucket(key)
		now := l.serverNow()
		if b.known && !now.Before(b.reset) {
			b.known = false // a new window: the budget is full again, but unconfirmed
		}
		spare := b.remaining - b.inflight - l.headroom(b)
		switch {
		case !b.sleeping && !b.known && (b.inflight == 0 || b.untracked), !b.sleeping && b.known && spare > 0:
			b.inflight++
			l.mu.Unlock()
			return nil
		case b.sleeping || b.inflight > 0:
			// Another request will tell us more (or is already waiting).
			ch := l.changed
			l.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			l.mu.Lock()
		default:
			// Budget spent and nothing in flight: wait for the reset.
			d := max(b.reset.Sub(now), 0) + time.Second
			if l.waited+d > l.maxWait {
				err := &rateLimitWaitError{waited: l.waited, need: d, max: l.maxWait, bucket: key}
				l.mu.Unlock()
				return err
			}
			l.waited += d
			l.pauses++
			b.sleeping = true
			l.mu.Unlock()
			err := l.clock.Sleep(ctx, d)
			l.mu.Lock()
			b.sleeping, b.known = false, false
			l.broadcast()
			if err != nil {
				l.mu.Unlock()
				return err
			}
		}
	}
}

// release ends a request and learns from its response (nil when the
// request failed before an answer).
func (l *limiter) release(key string, resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key)
	b.inflight--
	defer l.broadcast()
	if resp == nil {
		return
	}
	h := resp.Header
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		l.skew = d.Sub(l.clock.Now())
	}
	limit, err1 := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	resetSec, err3 := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		b.untracked = resp.StatusCode != http.StatusTooManyRequests
		if !b.untracked {
			// A 429 that does not say when to come back: wait a window.
			b.known, b.remaining, b.reset = true, 0, l.serverNow().Add(time.Minute)
		}
		return
	}
	b.untracked = false
	if resp.StatusCode == http.StatusTooManyRequests {
		remaining = 0 // also on the concurrency limit, whose headers differ
	}
	reset := time.Unix(resetSec, 0)
	switch {
	case !b.known || reset.After(b.reset):
		b.known, b.limit, b.remaining, b.reset = true, limit, remaining, reset
	case reset.Equal(b.reset):
		// Answers can arrive out of order: the lowest count is the latest.
		b.limit, b.remaining = limit, min(b.remaining, remaining)
	}
}

// stats reports the run's total rate-limit waiting.
func (l *limiter) stats() (waited time.Duration, pauses int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waited, l.pauses
}
