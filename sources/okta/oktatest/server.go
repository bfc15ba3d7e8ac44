// Package oktatest is an emulated Okta org for tests: an httptest server
// speaking the parts of the management API a directory sync reads, with
// the behaviours a client has to get right. Each one cites where Okta
// documents it (cloud-apis.md is shared/cloud-apis.md of this project):
//
//   - API tokens (Authorization: SSWS) and OAuth 2.0 service apps
//     (client credentials with a private_key_jwt assertion at
//     /oauth2/v1/token, Bearer or DPoP-bound tokens, use_dpop_nonce):
//     auth.go; Okta's "Implement OAuth for Okta with a service app" and
//     "Configure OAuth 2.0 Demonstrating Proof-of-Possession" guides.
//   - Link pagination with opaque after cursors: api.go; Okta API
//     reference, "Pagination" and "Link header".
//   - the list of users leaves out DEPROVISIONED users unless a filter is
//     given: api.go; Users API, "List all users".
//   - filter expressions on status, lastUpdated and the like: filter.go;
//     Users and Groups API filter tables.
//   - lastMembershipUpdated on groups, which membership changes move while
//     the users' lastUpdated stays: org.go; Groups API filter table.
//   - two-step deletion (deactivate, then delete for good): org.go; Users
//     API, "Delete a user".
//   - rate-limit headers on every answer, small configurable budgets per
//     bucket and a concurrency limit, 429 E0000047 with no Retry-After:
//     ratelimit.go; "Rate limit best practices", "Management rate limits".
//
// The test API (AddUser, SetStatus, DeleteUser, AddMember, Spend,
// FailAfter, ...) changes the org between or during runs; Stats reports
// what clients sent.
package oktatest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures an emulated org.
type Options struct {
	// Clock is shared with the client under test; default a fake clock
	// at 2026-01-05T09:00:00Z.
	Clock *Clock
	// RateLimits per bucket per minute (users, user, groups, group,
	// oauth2, api); unset buckets get Okta's Workforce Identity figures.
	RateLimits map[string]int
	// ConcurrencyLimit is the org's limit on simultaneous requests
	// (default 75, Okta's for most orgs).
	ConcurrencyLimit int
	// Window is the length of a rate-limit window (default a minute, as
	// Okta's); shorter windows make throttled soak runs quick.
	Window time.Duration
	// CombineLinks sends self and next in one comma-separated Link header
	// instead of two headers; Okta's answers come in both forms.
	CombineLinks bool
}

// Server is an emulated Okta org.
type Server struct {
	// URL is the org URL, e.g. http://127.0.0.1:41234.
	URL          string
	clock        *Clock
	srv          *httptest.Server
	combineLinks bool

	mu     sync.Mutex
	org    *org
	auth   authState
	limits rateState
	stats  Stats
	fail   failure
}

// New starts an emulated org, closed when tb ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Clock == nil {
		opts.Clock = NewClock(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	}
	if opts.ConcurrencyLimit <= 0 {
		opts.ConcurrencyLimit = 75
	}
	s := &Server{clock: opts.Clock, org: newOrg(), auth: newAuthState(), limits: newRateState(opts.RateLimits, opts.ConcurrencyLimit, opts.Window),
		stats: newStats(), fail: failure{after: -1}, combineLinks: opts.CombineLinks}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Clock returns the org's clock.
func (s *Server) Clock() *Clock { return s.clock }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// failure makes requests fail on purpose, to interrupt a run.
type failure struct {
	after int // requests still answered normally; -1: never fail
}

// FailAfter makes every API request after the next n answer 500
// E0000009; a negative n ends that.
func (s *Server) FailAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail.after = n
}

// serve is the front door: concurrency and rate limits, failure
// injection, authentication, then the API.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
	w.Header().Set("X-Okta-Request-Id", randomString(12))
	bucket := bucketOf(r.Method, r.URL.Path)
	release, ok := s.admit(w, r, bucket)
	if !ok {
		return
	}
	defer release()
	s.mu.Lock()
	failNow := false
	if s.fail.after == 0 {
		failNow = true
	} else if s.fail.after > 0 {
		s.fail.after--
	}
	s.mu.Unlock()
	if failNow {
		s.record(r, bucket, http.StatusInternalServerError)
		writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	if r.URL.Path == "/oauth2/v1/token" {
		status := s.token(w, r)
		s.record(r, bucket, status)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		// Not part of the org's API: what a non-Okta host might answer.
		s.record(r, bucket, http.StatusNotFound)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>Not Found</body></html>")
		return
	}
	caller, status := s.authenticate(w, r)
	if status != 0 {
		s.record(r, bucket, status)
		return
	}
	s.record(r, bucket, s.api(w, r, caller))
}

// okta error body shape (developer.okta.com/docs/reference/error-codes).
type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

func writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) int {
	e := oktaError{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + randomString(19), ErrorCauses: []errorCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, errorCause{c})
	}
	writeJSON(w, status, e)
	return status
}

// writeOAuthError is the token endpoint's error shape (RFC 6749 5.2).
func writeOAuthError(w http.ResponseWriter, status int, code, description string) int {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
	return status
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func randomString(n int) string {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b)
}
