package api

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// authWindow is the window failed authentications are counted in.
const authWindow = time.Minute

// maxTrackedAddrs bounds the failure table: a spray from more addresses
// than this evicts the address whose last failure is oldest, so memory
// stays at about maxTrackedAddrs × limit timestamps.
const maxTrackedAddrs = 10000

// failureLimiter counts failed authentications per client address over a
// sliding window (the times of the last limit failures), so a blocked
// address is told exactly when its oldest failure leaves the window.
type failureLimiter struct {
	limit    int
	window   time.Duration
	maxAddrs int

	mu     sync.Mutex
	byAddr map[string]*list.Element // of *failures
	order  *list.List               // front: most recent failure
}

type failures struct {
	addr  string
	times []time.Time // oldest first, at most limit
}

func newFailureLimiter(limit int) *failureLimiter {
	return &failureLimiter{limit: limit, window: authWindow, maxAddrs: maxTrackedAddrs,
		byAddr: map[string]*list.Element{}, order: list.New()}
}

// blocked reports whether addr has used up its failures, and if so how
// long until the oldest of them leaves the window.
func (l *failureLimiter) blocked(addr string, now time.Time) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.byAddr[addr]
	if !ok {
		return 0, false
	}
	f := el.Value.(*failures)
	l.prune(f, now)
	if len(f.times) == 0 {
		l.remove(el)
		return 0, false
	}
	if len(f.times) < l.limit {
		return 0, false
	}
	return f.times[0].Add(l.window).Sub(now), true
}

// fail records a failure of addr and reports whether the address is now
// blocked.
func (l *failureLimiter) fail(addr string, now time.Time) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.byAddr[addr]
	if !ok {
		for l.order.Len() >= l.maxAddrs {
			l.remove(l.order.Back())
		}
		el = l.order.PushFront(&failures{addr: addr})
		l.byAddr[addr] = el
	}
	f := el.Value.(*failures)
	l.prune(f, now)
	f.times = append(f.times, now)
	if len(f.times) > l.limit {
		f.times = f.times[len(f.times)-l.limit:]
	}
	l.order.MoveToFront(el)
	return len(f.times) >= l.limit
}

func (l *failureLimiter) prune(f *failures, now time.Time) {
	i := 0
	for i < len(f.times) && !f.times[i].Add(l.window).After(now) {
		i++
	}
	f.times = f.times[i:]
}

func (l *failureLimiter) remove(el *list.Element) {
	delete(l.byAddr, el.Value.(*failures).addr)
	l.order.Remove(el)
}

// tokenBuckets is a token bucket per API token id: rate requests a
// second on average, up to burst at once. Only authenticated tokens reach
// it, so its size is bounded by the tokens an admin created.
type tokenBuckets struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newTokenBuckets(rate, burst int) *tokenBuckets {
	if burst < 1 {
		burst = max(2*rate, 1)
	}
	return &tokenBuckets{rate: float64(rate), burst: float64(burst), buckets: map[string]*bucket{}}
}

// take spends one request of id's budget, or reports how long until one
// is available.
func (b *tokenBuckets) take(id string, now time.Time) (time.Duration, bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, ok := b.buckets[id]
	if !ok {
		bk = &bucket{tokens: b.burst, last: now}
		b.buckets[id] = bk
	}
	if elapsed := now.Sub(bk.last); elapsed > 0 {
		bk.tokens = math.Min(b.burst, bk.tokens+elapsed.Seconds()*b.rate)
		bk.last = now
	}
	if bk.tokens >= 1 {
		bk.tokens--
		return 0, true
	}
	return time.Duration((1 - bk.tokens) / b.rate * float64(time.Second)), false
}

// retryAfterSeconds is the Retry-After value for a wait: whole seconds,
// rounded up, at least 1 (0 would invite an immediate retry).
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
