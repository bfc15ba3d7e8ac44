package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// client speaks Okta's management API over plain net/http: it authorizes
// each request, keeps to the rate limits and the concurrency cap, retries
// what is worth retrying, and follows Link: rel="next" for paging.
type client struct {
	base  *url.URL
	httpc *http.Client
	clock sources.Clock
	// upstream is told the outcome of every exchange, token requests
	// included.
	upstream sources.UpstreamObserver
	log      *slog.Logger
	auth     authorizer
	limiter  *limiter
	slots    chan struct{} // caps simultaneous requests
	// retries is how often a network failure or a 5xx is retried.
	retries int

	requests  atomic.Int64
	firstDate atomic.Pointer[time.Time] // server's Date on the first answer
}

const userAgent = "scimgate-okta/1 (+https://github.com/scimgate/scimgate)"

// newClient makes a run's client; budgets holds the org's rate-limit state
// across runs and sources (nil: this client's own).
func newClient(s settings, budgets *orgBudgets, httpc *http.Client, clock sources.Clock, upstream sources.UpstreamObserver, log *slog.Logger) (*client, error) {
	if budgets == nil {
		budgets = newOrgBudgets()
	}
	c := &client{
		base: s.org, httpc: httpc, clock: clock, upstream: upstream, log: log,
		limiter: newLimiter(clock, budgets.org(s.org.String()), s.reserve, s.maxWait),
		slots:   make(chan struct{}, s.workers),
		retries: 2,
	}
	if s.apiToken != "" {
		c.auth = sswsAuth{token: s.apiToken}
		return c, nil
	}
	a, err := newOAuth(c, s)
	if err != nil {
		return nil, err
	}
	c.auth = a
	return c, nil
}

// send makes one HTTP exchange within the concurrency cap and the rate
// limits; every answer's rate-limit headers are recorded.
func (c *client) send(ctx context.Context, req *http.Request) (*http.Response, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.slots }()
	key := bucketFor(req.Method, req.URL.Path)
	if err := c.limiter.acquire(ctx, key); err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", userAgent)
	c.requests.Add(1)
	resp, err := c.httpc.Do(req)
	c.limiter.release(key, resp)
	c.upstream.ObserveUpstream(sources.HTTPOutcome(resp, err))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.base, unwrapURLError(err))
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		c.firstDate.CompareAndSwap(nil, &d)
	}
	return resp, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// get fetches rawURL into out and returns the next page's URL ("" on the
// last page).
func (c *client) get(ctx context.Context, rawURL string, out any) (next string, err error) {
	authRetries := 0
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return "", fmt.Errorf("request %s: %w", rawURL, err)
		}
		req.Header.Set("Accept", "application/json")
		if err := c.auth.authorize(ctx, req); err != nil {
			return "", err
		}
		resp, err := c.send(ctx, req)
		if err != nil {
			if errors.Is(err, ErrUnreachable) && attempt < c.retries {
				if err := c.backoff(ctx, attempt); err != nil {
					return "", err
				}
				continue
			}
			return "", err
		}
		if resp.StatusCode == http.StatusOK {
			return c.decode(resp, out)
		}
		retryAuth := (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusBadRequest) && authRetries < 2
		apiErr := readAPIError(resp)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			// The limiter has learnt the reset this 429 announces and holds
			// the retry back until then; it alone ends the run, once
			// maxRateLimitWait would be passed.
			c.log.Debug("okta: rate limited; waiting for the reset", "url", req.URL.Path,
				"reset", resp.Header.Get("X-Rate-Limit-Reset"), "date", resp.Header.Get("Date"))
			continue
		case retryAuth && c.auth.retry(resp, apiErr):
			authRetries++
			continue
		case resp.StatusCode >= 500 && attempt < c.retries:
			if err := c.backoff(ctx, attempt); err != nil {
				return "", err
			}
			continue
		}
		return "", apiErr
	}
}

func (c *client) backoff(ctx context.Context, attempt int) error {
	return c.clock.Sleep(ctx, time.Duration(1<<attempt)*time.Second)
}

func (c *client) decode(resp *http.Response, out any) (string, error) {
	defer resp.Body.Close()
	where := resp.Request.Method + " " + resp.Request.URL.Path
	if !isJSON(resp.Header.Get("Content-Type")) {
		return "", fmt.Errorf("%w: %s answered 200 with %q, not JSON", ErrNotOkta, where, mediaType(resp.Header.Get("Content-Type")))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return "", fmt.Errorf("read the answer of %s: %w", where, err)
	}
	io.Copy(io.Discard, resp.Body) // let the connection be reused
	next := nextLink(resp.Header.Values("Link"))
	if next == "" {
		return "", nil
	}
	u, err := resp.Request.URL.Parse(next)
	if err != nil {
		return "", fmt.Errorf("%s sent a malformed next link %q: %w", where, next, err)
	}
	// The link is followed verbatim, but only to the org itself, where
	// the credentials are meant to go.
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("%s sent a next link to another host (%s); refusing to follow it", where, u.Host)
	}
	return u.String(), nil
}

// nextLink finds rel="next" among Link headers, which Okta sends either
// as several headers or as one comma-separated list (RFC 8288).
func nextLink(values []string) string {
	for _, v := range values {
		for len(v) > 0 {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+end]
			rest := v[start+end+1:]
			params := rest
			if comma := strings.IndexByte(rest, '<'); comma >= 0 {
				params, rest = rest[:comma], rest[comma:]
			} else {
				rest = ""
			}
			for _, p := range strings.Split(params, ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), ",")), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
			v = rest
		}
	}
	return ""
}

// pages walks a listing from first, calling page with each decoded page.
func pages[T any](ctx context.Context, c *client, first string, page func([]T) error) error {
	next := first
	for next != "" {
		var items []T
		var err error
		next, err = c.get(ctx, next, &items)
		if err != nil {
			return err
		}
		if err := page(items); err != nil {
			return err
		}
	}
	return nil
}

// listURL builds the first URL of a listing.
func (c *client) listURL(path string, query url.Values) string {
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	return u.String()
}
