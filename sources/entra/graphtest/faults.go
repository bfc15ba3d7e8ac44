package graphtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

type fault struct {
	status     int
	retryAfter time.Duration
	withHeader bool
	asDate     bool // Retry-After as an HTTP-date rather than seconds
}

// Throttle makes the next n Graph requests fail with status (429 or 503)
// and, when retryAfter > 0, a Retry-After header in whole seconds.
// Throttling guidance: "Graph returns 429 ... A suggested wait time is
// returned in the response header" (Retry-After, in seconds); 503 may
// carry it too (graph/errors). A request that comes before the wait is
// over is recorded as Early.
func (s *Server) Throttle(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter, withHeader: retryAfter > 0})
	}
}

// ThrottleUntil is Throttle with Retry-After as an HTTP-date, now plus
// retryAfter on the server's clock (RFC 9110 allows either form).
func (s *Server) ThrottleUntil(n, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter, withHeader: true, asDate: true})
	}
}

// takeFault answers with the next injected fault, if any.
func (s *Server) takeFault(w http.ResponseWriter, reqID string) bool {
	s.mu.Lock()
	if len(s.faults) == 0 {
		s.mu.Unlock()
		return false
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	now := s.now()
	if f.withHeader {
		s.notBefore = now.Add(f.retryAfter)
		if f.asDate {
			s.notBefore = s.notBefore.Truncate(time.Second) // what the header can say
		}
	}
	s.mu.Unlock()
	switch {
	case f.asDate:
		w.Header().Set("Retry-After", now.Add(f.retryAfter).UTC().Format(http.TimeFormat))
	case f.withHeader:
		w.Header().Set("Retry-After", strconv.Itoa(int(f.retryAfter/time.Second)))
	}
	code, msg := "TooManyRequests", "Too many requests. Please retry again later."
	if f.status == http.StatusTooManyRequests {
		// Identity-and-access throttling headers (throttling-limits).
		w.Header().Set("x-ms-throttle-scope", "Tenant_Application/ReadOnly/"+s.opts.ClientID+"/"+s.opts.TenantID)
		w.Header().Set("x-ms-throttle-information", "ResourceUnitLimitExceeded")
	} else {
		code, msg = "serviceNotAvailable", "The service is temporarily unavailable."
	}
	graphError(w, reqID, f.status, code, msg)
	return true
}

// StaleMode is how Graph tells a client its delta token is no good.
type StaleMode int

const (
	// StaleGone answers 410 Gone with a Location header holding the
	// delta URL with an empty $deltatoken: "the application must restart
	// with a full synchronization" (delta-query-overview, "Synchronization
	// reset").
	StaleGone StaleMode = iota + 1
	// StaleNotFound answers 400 with code syncStateNotFound, as for an
	// expired token (delta-query-overview, "Token duration").
	StaleNotFound
	// StaleResync answers 400 with code resyncRequired ("the delta token
	// is no longer valid, and the app must reset the sync state",
	// graph/errors).
	StaleResync
)

// InvalidateDeltaTokens makes every state token issued so far (skip and
// delta tokens) stale, answered as mode says.
func (s *Server) InvalidateDeltaTokens(mode StaleMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	s.stale = mode
}

// ExpireAccessTokens makes every access token issued so far expired, as
// if their lifetime had passed.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

// graphError writes Graph's error shape: {"error":{"code","message",
// "innerError":{"date","request-id","client-request-id"}}} (graph/errors).
func graphError(w http.ResponseWriter, reqID string, status int, code, msg string) {
	body := map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        reqID,
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
