package sources

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// UpstreamOutcome is how one request to an upstream directory ended, for
// metrics. The values are the outcome label of
// scimgate_upstream_requests_total.
type UpstreamOutcome string

// Outcomes of one upstream request.
const (
	UpstreamOK        UpstreamOutcome = "ok"        // answered successfully
	UpstreamThrottled UpstreamOutcome = "throttled" // 429, or 503 with Retry-After: the upstream asked us to slow down
	UpstreamTimeout   UpstreamOutcome = "timeout"   // no answer in time
	UpstreamError     UpstreamOutcome = "error"     // any other failure
)

// UpstreamOutcomes lists every outcome, for those that must know them all
// (the metrics label check).
var UpstreamOutcomes = []UpstreamOutcome{UpstreamOK, UpstreamThrottled, UpstreamTimeout, UpstreamError}

// UpstreamObserver is told about every request a source makes upstream
// (HTTP exchange, LDAP search, file read), once per attempt, retries
// included. It may be called from several goroutines at once.
type UpstreamObserver interface {
	ObserveUpstream(outcome UpstreamOutcome)
}

// UpstreamFunc adapts a function to UpstreamObserver.
type UpstreamFunc func(outcome UpstreamOutcome)

// ObserveUpstream calls f.
func (f UpstreamFunc) ObserveUpstream(outcome UpstreamOutcome) { f(outcome) }

// noUpstream is the observer of a source opened without one.
type noUpstream struct{}

func (noUpstream) ObserveUpstream(UpstreamOutcome) {}

// HTTPOutcome classifies one HTTP exchange: err is what the client's Do
// returned, resp its answer when err is nil.
func HTTPOutcome(resp *http.Response, err error) UpstreamOutcome {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return UpstreamTimeout
	case err != nil || resp == nil:
		return UpstreamError
	case resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		return UpstreamThrottled
	case resp.StatusCode < 300:
		return UpstreamOK
	}
	return UpstreamError
}
