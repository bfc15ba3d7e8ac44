package sources

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Env is what a source is opened with: the process's services, injected
// the same way into every kind so that tests can hand a connector a fake
// clock, an emulator's HTTP client and an observer that counts requests.
// A zero Env is valid; see WithDefaults.
type Env struct {
	// Logger receives the source's log lines (nil: discarded).
	Logger *slog.Logger
	// Clock is the time the source reads and waits on (nil: the system's).
	Clock Clock
	// HTTPClient, when set, carries every HTTP request of the source; nil
	// lets the kind build its own (see GuardedHTTPClient). Kinds that do
	// not speak HTTP ignore it.
	HTTPClient *http.Client
	// Upstream is told the outcome of every upstream request (nil: no one).
	Upstream UpstreamObserver
}

// WithDefaults returns e with every nil service but HTTPClient filled in,
// so a source can use e.Logger, e.Clock and e.Upstream without checks.
func (e Env) WithDefaults() Env {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if e.Clock == nil {
		e.Clock = SystemClock{}
	}
	if e.Upstream == nil {
		e.Upstream = noUpstream{}
	}
	return e
}

// Clock is time as a source sees it. Tests replace it (sourcetest.Clock)
// so that waiting out a Retry-After or a rate-limit window takes no real
// time and never races the real clock.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, whichever comes first; it
	// returns ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GuardedHTTPClient is the HTTP client of a source opened without one:
// it never dials metadata or link-local addresses, even by name (see
// GuardedDialer), keeps up to idlePerHost connections for reuse, and
// gives up on an exchange after two minutes.
func GuardedHTTPClient(idlePerHost int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if idlePerHost > 0 {
		tr.MaxIdleConnsPerHost = idlePerHost
	}
	tr.DialContext = GuardedDialer().DialContext
	return &http.Client{Timeout: 2 * time.Minute, Transport: tr}
}
