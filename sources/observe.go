package sources

import "context"

// Outcomes of one request to an upstream directory, for metrics. They
// match the outcome label of scimgate_upstream_requests_total.
const (
	UpstreamOK        = "ok"        // answered successfully
	UpstreamThrottled = "throttled" // 429, or 503 with Retry-After
	UpstreamTimeout   = "timeout"   // no answer in time
	UpstreamError     = "error"     // any other failure
)

type upstreamKey struct{}

// WithUpstreamObserver returns ctx carrying fn, which connectors call for
// every request they make upstream (see ObserveUpstream). The runner sets
// it for each run, so connectors need no metrics dependency.
func WithUpstreamObserver(ctx context.Context, fn func(outcome string)) context.Context {
	return context.WithValue(ctx, upstreamKey{}, fn)
}

// ObserveUpstream reports one upstream request's outcome to the observer
// in ctx, if any.
func ObserveUpstream(ctx context.Context, outcome string) {
	if fn, ok := ctx.Value(upstreamKey{}).(func(string)); ok && fn != nil {
		fn(outcome)
	}
}
