package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	mediaSCIM  = "application/scim+json"
	acceptSCIM = "application/scim+json, application/json;q=0.9"
	maxBackoff = 30 * time.Second
)

// reply is one attempt's result.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    error // the request did not get an answer
	sent   bool  // the request's headers went out before err
	final  bool  // err is not worth a retry
}

// do sends one request with retries and decodes a 2xx body into out.
//
// What is retried, and why:
//   - a network error (refused, reset, timeout) and a 5xx: with
//     exponential backoff and jitter, up to MaxAttempts;
//   - 429, and 503 with Retry-After: after Retry-After (seconds or an
//     HTTP-date, RFC 9110 §10.2.3), capped by MaxRetryAfter; without
//     one, with backoff;
//   - a 401 with oauth2: once, with a fresh token (it may have been
//     revoked or expired early).
//
// A POST (a create) is not idempotent, so it is retried only when the
// target cannot have applied it: a failure before the request went out
// (dial, DNS, TLS), a 429, or a 503 with Retry-After (the target says it
// refused the request). A network error after the request went out (a
// reset, a timeout waiting for the answer) or another 5xx returns an
// error wrapping ErrOutcomeUnknown instead, and the engine looks the
// object up before it creates it again. PUT, PATCH and DELETE are safe to
// repeat: the same replace or member add lands the same state, and a
// repeated DELETE's 404 counts as done.
func (c *Client) do(ctx context.Context, method, path, rawQuery string, body []byte, out any) error {
	target := c.base.String() + path
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		r := c.attempt(ctx, method, target, body)
		last := attempt >= c.cfg.MaxAttempts
		if r.err != nil {
			var authErr *authError
			if errors.As(r.err, &authErr) {
				// Nothing went to the target: the token endpoint failed.
				return fmt.Errorf("%s %s: %w", method, path, r.err)
			}
			c.observe(method, OutcomeNetwork)
			if ctxErr := ctx.Err(); ctxErr != nil {
				if method == http.MethodPost && r.sent {
					// Cancelled or timed out with the create on the wire.
					return fmt.Errorf("%s %s: %w: %w", method, path, ErrOutcomeUnknown, ctxErr)
				}
				return fmt.Errorf("%s %s: %w", method, path, ctxErr)
			}
			if method == http.MethodPost && r.sent {
				return fmt.Errorf("%s %s: %w: %w", method, path, ErrOutcomeUnknown, r.err)
			}
			if r.final {
				return fmt.Errorf("%s %s: %w", method, path, r.err)
			}
			if last {
				return fmt.Errorf("%s %s: no answer after %d attempts: %w", method, path, attempt, r.err)
			}
			if err := c.backoff(ctx, method, path, attempt, 0, r.err.Error()); err != nil {
				return err
			}
			continue
		}
		switch s := r.status; {
		case s >= 200 && s < 300:
			c.observe(method, OutcomeOK)
			if out == nil || len(bytes.TrimSpace(r.body)) == 0 {
				return nil
			}
			if err := json.Unmarshal(r.body, out); err != nil {
				err = fmt.Errorf("%s %s: HTTP %d with a body that is not SCIM JSON: %w", method, path, s, err)
				if method == http.MethodPost {
					err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err) // created, but which id?
				}
				return err
			}
			return nil
		case s == http.StatusUnauthorized && c.auth.refreshable() && !refreshed:
			c.observe(method, OutcomeClientError)
			refreshed = true
			c.auth.invalidate()
			attempt-- // a fresh token is not a retry of the target's fault
			continue
		case s == http.StatusTooManyRequests || (s == http.StatusServiceUnavailable && r.header.Get("Retry-After") != ""):
			if s == http.StatusTooManyRequests {
				c.observe(method, OutcomeThrottled)
			} else {
				c.observe(method, OutcomeServerError)
			}
			wait, hasWait := c.retryAfter(r.header)
			if last || wait > c.cfg.MaxRetryAfter {
				te := targetError(method, path, r)
				te.RetryAfter = wait
				return te
			}
			if hasWait {
				if err := c.wait(ctx, method, path, wait, s); err != nil {
					return err
				}
			} else if err := c.backoff(ctx, method, path, attempt, s, ""); err != nil {
				return err
			}
		case s >= 500:
			c.observe(method, OutcomeServerError)
			te := targetError(method, path, r)
			if method == http.MethodPost {
				return fmt.Errorf("%w: %w", ErrOutcomeUnknown, te)
			}
			if last {
				return te
			}
			if err := c.backoff(ctx, method, path, attempt, s, ""); err != nil {
				return err
			}
		default:
			c.observe(method, OutcomeClientError)
			return targetError(method, path, r)
		}
	}
}

// attempt sends the request once and reads the whole answer.
func (c *Client) attempt(ctx context.Context, method, target string, body []byte) (r reply) {
	var sent atomic.Bool // set on the transport's goroutine
	defer func() { r.sent = r.sent || sent.Load() }()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	trace := &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, target, rd)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Accept", acceptSCIM)
	if body != nil {
		req.Header.Set("Content-Type", mediaSCIM)
	}
	if err := c.auth.authorize(ctx, req); err != nil {
		r.err = err
		return r
	}
	resp, err := c.http.Do(req)
	if err != nil {
		r.err = err
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	switch {
	case err != nil:
		r.sent, r.err = true, fmt.Errorf("reading the answer: %w", err)
	case int64(len(b)) > c.cfg.MaxBody:
		// Too large to be an answer we can use, and not worth retrying.
		r.sent, r.final = true, true
		r.err = fmt.Errorf("HTTP %d with an answer larger than %d bytes", resp.StatusCode, c.cfg.MaxBody)
	default:
		r.status, r.header, r.body = resp.StatusCode, resp.Header, b
	}
	return r
}

func (c *Client) observe(method, outcome string) {
	if c.cfg.Observe != nil {
		c.cfg.Observe(method, outcome)
	}
}

// backoff waits base·2^(attempt-1), capped, with jitter over its upper
// half so that clients that failed together do not retry together.
func (c *Client) backoff(ctx context.Context, method, path string, attempt, status int, cause string) error {
	d := c.cfg.BaseBackoff << min(attempt-1, 16)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	c.log.Info("push request retried", "method", method, "path", path, "status", status, "error", cause, "wait", d)
	return c.sleep(ctx, method, path, d)
}

func (c *Client) wait(ctx context.Context, method, path string, d time.Duration, status int) error {
	c.log.Info("push request throttled", "method", method, "path", path, "status", status, "retryAfter", d)
	return c.sleep(ctx, method, path, d)
}

func (c *Client) sleep(ctx context.Context, method, path string, d time.Duration) error {
	if err := c.cfg.Sleep(ctx, d); err != nil {
		return fmt.Errorf("%s %s: waiting to retry: %w", method, path, err)
	}
	return nil
}

// retryAfter reads Retry-After as seconds or an HTTP-date; a date is
// measured from the answer's Date header (the target's clock) when it
// has one.
func (c *Client) retryAfter(h http.Header) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	now := c.cfg.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		now = d
	}
	return max(at.Sub(now), 0), true
}

// targetError builds the error from the target's answer, with the RFC
// 7644 §3.12 body's scimType and detail when it sent one.
func targetError(method, path string, r reply) *TargetError {
	te := &TargetError{Method: method, Path: path, Status: r.status}
	var body struct {
		SCIMType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	if json.Unmarshal(r.body, &body) == nil && (body.Detail != "" || body.SCIMType != "") {
		te.SCIMType, te.Detail = body.SCIMType, body.Detail
		return te
	}
	text := strings.TrimSpace(string(r.body))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	te.Detail = text
	return te
}
