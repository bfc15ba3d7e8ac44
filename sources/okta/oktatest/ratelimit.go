package oktatest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate limits as Okta documents them ("Rate limit best practices",
// "Management rate limits"; cloud-apis 10):
//
//   - budgets are per endpoint family and per minute; every answer carries
//     X-Rate-Limit-Limit, X-Rate-Limit-Remaining and X-Rate-Limit-Reset
//     (UTC epoch seconds, on the server's clock, which the Date header
//     shows);
//   - past the budget Okta answers 429 E0000047 "API call exceeded rate
//     limit due to too many requests." and sends no Retry-After;
//   - too many simultaneous requests also get 429 E0000047, with the
//     headers reporting the concurrency limit and a Reset that is "only a
//     suggestion";
//   - every answer, 429s included, carries a Date header on the same
//     clock as the Reset, so a client waits Reset - Date whatever its own
//     clock says.
//
// Windows here start on a multiple of the window length (a minute unless
// Options.Window says otherwise) on the emulator's clock. The log records
// the Reset each 429 announced, so tests can check that no client came
// back before it.

// defaultLimits are Workforce Identity's per-minute figures.
var defaultLimits = map[string]int{
	"users": 600, "user": 2000, "groups": 500, "group": 1000, "api": 1200, "oauth2": 600, "other": 1200,
}

type rateState struct {
	limits      map[string]int
	windows     map[string]*window
	concurrency int
	inflight    int
	window      time.Duration
	busy        int // requests still to refuse as over the concurrency limit
}

type window struct {
	used  int
	reset time.Time
}

func newRateState(limits map[string]int, concurrency int, length time.Duration) rateState {
	if length <= 0 {
		length = time.Minute
	}
	l := map[string]int{}
	for k, v := range defaultLimits {
		l[k] = v
	}
	for k, v := range limits {
		l[k] = v
	}
	return rateState{limits: l, windows: map[string]*window{}, concurrency: concurrency, window: length}
}

// bucketOf names a request's budget after the management rate-limit
// table: "/api/v1/groups except /api/v1/groups/{id}" (so member lists
// share the list-groups budget), "/api/v1/groups/{id} only", "GET or POST
// to /api/v1/users", "GET /api/v1/users/{id}", the token endpoint, and
// the rest of /api/v1.
func bucketOf(method, path string) string {
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

// windowLocked returns the bucket's current window; s.mu is held.
func (s *Server) windowLocked(bucket string) *window {
	now := s.clock.Now()
	w := s.limits.windows[bucket]
	if w == nil {
		w = &window{}
		s.limits.windows[bucket] = w
	}
	if !now.Before(w.reset) {
		w.used, w.reset = 0, now.Truncate(s.limits.window).Add(s.limits.window)
	}
	return w
}

// admit applies the concurrency limit and the bucket's budget. When it
// refuses, the 429 has been written.
func (s *Server) admit(rw http.ResponseWriter, r *http.Request, bucket string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &s.limits
	l.inflight++
	s.stats.PeakInFlight = max(s.stats.PeakInFlight, l.inflight)
	h := rw.Header()
	if l.inflight > l.concurrency || l.busy > 0 {
		l.busy = max(l.busy-1, 0)
		l.inflight--
		s.stats.OverConcurrency++
		reset := setRateHeaders(h, l.concurrency, 0, s.clock.Now().Add(time.Second))
		s.recordLocked(r, bucket, http.StatusTooManyRequests)
		s.stats.Log[len(s.stats.Log)-1].Reset = reset
		writeError(rw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return nil, false
	}
	w, limit := s.windowLocked(bucket), l.limits[bucket]
	if w.used >= limit {
		l.inflight--
		s.stats.OverBudget++
		reset := setRateHeaders(h, limit, 0, w.reset)
		s.recordLocked(r, bucket, http.StatusTooManyRequests)
		s.stats.Log[len(s.stats.Log)-1].Reset = reset
		writeError(rw, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return nil, false
	}
	w.used++
	setRateHeaders(h, limit, limit-w.used, w.reset)
	return func() {
		s.mu.Lock()
		s.limits.inflight--
		s.mu.Unlock()
	}, true
}

// setRateHeaders writes the three headers and returns the announced reset.
func setRateHeaders(h http.Header, limit, remaining int, reset time.Time) time.Time {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	// Reset is a whole second; round up so the window really is over then.
	announced := reset.Add(time.Second - 1).Unix()
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(announced, 10))
	return time.Unix(announced, 0).UTC()
}

// SetRateLimit changes a bucket's budget per minute.
func (s *Server) SetRateLimit(bucket string, perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.limits[bucket] = perMinute
}

// Spend uses n requests of the bucket's current window, as another
// integration sharing the org's budget would.
func (s *Server) Spend(bucket string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windowLocked(bucket).used += n
}

// RefuseConcurrent answers the next n requests with the concurrency
// limit's 429, as when other integrations fill the org's concurrency.
func (s *Server) RefuseConcurrent(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.busy = n
}
