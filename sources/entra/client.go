package entra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// defaultAttempts bounds how often one request is sent before the run
// gives up (the old cursor is kept, so the next run repeats the work).
const defaultAttempts = 8

// Backoff when Graph gives no Retry-After: exponential from 1 s, capped.
const (
	backoffBase = time.Second
	backoffMax  = 60 * time.Second
)

// client sends GETs to Graph: bearer token, retries, request ids.
type client struct {
	http        *http.Client
	graph       string // base URL, no trailing slash
	tokens      *tokenSource
	clock       sources.Clock
	upstream    sources.UpstreamObserver // told the outcome of every request
	log         *slog.Logger
	maxAttempts int
	// maxThrottleWait overrides the package's bound (tests).
	maxThrottleWait time.Duration
	sent            atomic.Int64
}

// get fetches rawURL (absolute, on the Graph host) and decodes the JSON
// body into out. It retries throttling (429, 503, 504 honouring
// Retry-After exactly, never earlier; backoff without it), other 5xx and
// transport errors, and a 401 once with a new token.
func (c *client) get(ctx context.Context, rawURL string, out any) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("entra: bad URL from Graph: %w", err)
	}
	if base, _ := url.Parse(c.graph); base == nil || u.Scheme != base.Scheme || u.Host != base.Host {
		// nextLinks and deltaLinks are followed verbatim, but never to
		// another host: the request carries our token (paging).
		return fmt.Errorf("entra: refusing to follow a link to %s://%s, which is not graphURL %s", u.Scheme, u.Host, c.graph)
	}
	refreshed := false
	var last error
	var throttled time.Duration // waited for Graph's throttling so far
	throttles := 0
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		res, body, tok, err := c.send(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var te *tokenFetchError
			if errors.As(err, &te) {
				return te.err // not retried here: the next run tries again
			}
			last = &unreachableError{"entra: GET " + u.Path, err}
			if err := c.wait(ctx, backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			if err := json.Unmarshal(body, out); err != nil {
				return fmt.Errorf("entra: GET %s: undecodable response [request-id %s]: %w", u.Path, res.Header.Get("request-id"), err)
			}
			return nil
		case res.StatusCode == http.StatusUnauthorized && !refreshed:
			// A token can be revoked or lapse early: get a new one, once.
			refreshed = true
			c.tokens.invalidate(tok)
			attempt--
			continue
		case retryable(res.StatusCode):
			ge := newGraphError(http.MethodGet, u.Path, res, body)
			ge.Attempts = attempt
			last = ge
			// An HTTP-date is measured against the answer's own Date,
			// so our clock's skew does not matter.
			now := c.clock.Now()
			if date, err := http.ParseTime(res.Header.Get("Date")); err == nil {
				now = date
			}
			d, ok := retryAfter(res.Header.Get("Retry-After"), now)
			throttle := res.StatusCode == http.StatusTooManyRequests || ok && res.StatusCode == http.StatusServiceUnavailable
			if throttle {
				throttles++
			}
			if !ok {
				d = backoff(attempt + max(throttles-1, 0))
			}
			if throttle {
				// Throttling is not a failure: it costs waiting time, not
				// attempts, and only maxThrottleWait ends it.
				d = max(d, minThrottleWait)
				if throttled+d > c.throttleLimit() {
					return &throttleWaitError{path: u.Path, waited: throttled, need: d, max: c.throttleLimit(), last: ge}
				}
				throttled += d
				attempt--
			} else if attempt == c.maxAttempts {
				break
			}
			c.log.Info("graph asked to wait", "status", res.StatusCode, "path", u.Path, "wait", d, "attempt", attempt, "request_id", ge.RequestID)
			if err := c.wait(ctx, d); err != nil {
				return err
			}
			continue
		default:
			ge := newGraphError(http.MethodGet, u.Path, res, body)
			ge.Attempts = attempt
			return ge
		}
	}
	return fmt.Errorf("entra: giving up after %d attempts: %w", c.maxAttempts, last)
}

// maxThrottleWait bounds the time one request waits out Graph's
// throttling (429, or 503 with Retry-After) before the run gives up; the
// old cursor is kept, so the next run repeats the work.
const maxThrottleWait = 15 * time.Minute

// minThrottleWait is the least wait after a throttling answer, even one
// whose Retry-After is zero or already past: never come straight back.
const minThrottleWait = time.Second

func (c *client) throttleLimit() time.Duration {
	if c.maxThrottleWait > 0 {
		return c.maxThrottleWait
	}
	return maxThrottleWait
}

// throttleWaitError says a request stopped rather than wait longer.
type throttleWaitError struct {
	path              string
	waited, need, max time.Duration
	last              *GraphError
}

func (e *throttleWaitError) Error() string {
	return fmt.Sprintf("entra: GET %s: Graph is throttling and asks to wait %s more after %s already waited, past the %s a request may wait; "+
		"the run stopped and the next one starts again from the last saved position: %v", e.path, e.need.Round(time.Second), e.waited.Round(time.Second), e.max, e.last)
}

func (e *throttleWaitError) Unwrap() error { return e.last }

// tokenFetchError marks a failure to get an access token.
type tokenFetchError struct{ err error }

func (e *tokenFetchError) Error() string { return e.err.Error() }

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500 && status != http.StatusNotImplemented
}

func (c *client) wait(ctx context.Context, d time.Duration) error {
	if err := c.clock.Sleep(ctx, d); err != nil {
		return fmt.Errorf("entra: canceled while waiting to retry: %w", err)
	}
	return nil
}

// send makes one request and reads the whole body.
func (c *client) send(ctx context.Context, u *url.URL) (*http.Response, []byte, string, error) {
	tok, err := c.tokens.token(ctx)
	if err != nil {
		return nil, nil, "", &tokenFetchError{err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", newRequestID())
	c.sent.Add(1)
	res, err := c.http.Do(req)
	c.upstream.ObserveUpstream(sources.HTTPOutcome(res, err))
	if err != nil {
		return nil, nil, tok, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, tok, err
	}
	return res, body, tok, nil
}

// retryAfter reads Retry-After: delay seconds (Graph's form) or an HTTP
// date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(h, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
		// Clamped so that an absurd value cannot overflow a Duration; it
		// is past any wait bound anyway.
		return time.Duration(min(secs, 1e8) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// backoff is base·2^(attempt-1), capped, with up to 25% jitter added
// (never subtracted).
func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 6)
	if d > backoffMax {
		d = backoffMax
	}
	j, _ := rand.Int(rand.Reader, big.NewInt(int64(d/4)+1))
	return d + time.Duration(j.Int64())
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
