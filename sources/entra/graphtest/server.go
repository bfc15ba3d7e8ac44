// Package graphtest is an in-process emulator of the parts of Microsoft
// Graph and the Microsoft identity platform that the entra source uses:
// the client-credentials token endpoint, /users and /groups with $select
// and $top paging, and /users/delta and /groups/delta with state tokens,
// @removed, members@delta split over pages, stale tokens, and throttling.
//
// Each behaviour carries a comment naming the document it follows:
// learn.microsoft.com/graph/... pages (and the entra/identity-platform
// pages for tokens), restated in shared/cloud-apis.md sections 1–4, or
// an [obs] tag where the behaviour comes from reported observation.
//
// Tests mutate the directory between runs (AddUser, DisableUser,
// DeleteUser, AddMembers, ...), inject faults (Throttle,
// ExpireAccessTokens, InvalidateDeltaTokens), and read what the client
// did (Requests, EarlyRetries).
package graphtest

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configures the emulated tenant.
type Options struct {
	TenantID     string // default "00000000-0000-4000-8000-0000000000aa"
	ClientID     string // default "11111111-1111-4111-8111-111111111111"
	ClientSecret string // default "s3cret~value"
	// Certificate, when set, is registered on the app for private_key_jwt.
	Certificate *x509.Certificate
	// Roles are the application permissions granted (admin-consented) to
	// the app; default User.Read.All and GroupMember.Read.All.
	Roles []string
	// Clock is the emulator's time (token lifetimes, Retry-After, delta
	// token age); default time.Now.
	Clock func() time.Time
	// TokenLifetime returns the lifetime of each access token; default a
	// random value between 60 and 90 minutes ("access tokens": "a random
	// value ranging between 60-90 minutes (75 minutes on average)").
	TokenLifetime func() time.Duration
	// UserPageSize and GroupPageSize are the objects per delta or list
	// page the server chooses (delta takes no $top: delta-query-overview,
	// "$top is not supported"); default 100, Graph's default page size.
	UserPageSize  int
	GroupPageSize int
	// MemberBudget caps members@delta entries per page; a group with
	// more is split and repeated on the following pages
	// (delta-query-groups, "Paging through members in a large group").
	// Default 1000.
	MemberBudget int
}

// Server is a running emulator. Close it when done.
type Server struct {
	opts Options
	ts   *httptest.Server

	mu     sync.Mutex
	dir    *directory
	tokens map[string]accessToken
	jtis   map[string]bool
	faults []fault
	// notBefore is when the client may retry after the last Retry-After.
	notBefore time.Time
	epoch     int
	stale     StaleMode
	requests  []Request
	hooks     []hook
	macKey    []byte
	graphN    int
}

// Request is one request the emulator served.
type Request struct {
	Method string
	Path   string
	Query  string
	Status int
	At     time.Time
	// Early is set on a request that came before the Retry-After of a
	// throttled one had elapsed.
	Early bool
}

type hook struct {
	after int
	fn    func()
}

// New starts an emulator on 127.0.0.1.
func New(opts Options) *Server {
	if opts.TenantID == "" {
		opts.TenantID = "00000000-0000-4000-8000-0000000000aa"
	}
	if opts.ClientID == "" {
		opts.ClientID = "11111111-1111-4111-8111-111111111111"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "s3cret~value"
	}
	if opts.Roles == nil {
		opts.Roles = []string{"User.Read.All", "GroupMember.Read.All"}
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.UserPageSize <= 0 {
		opts.UserPageSize = 100
	}
	if opts.GroupPageSize <= 0 {
		opts.GroupPageSize = 100
	}
	if opts.MemberBudget <= 0 {
		opts.MemberBudget = 1000
	}
	s := &Server{opts: opts, dir: newDirectory(), tokens: map[string]accessToken{}, jtis: map[string]bool{}, macKey: randomBytes(16)}
	if opts.TokenLifetime == nil {
		s.opts.TokenLifetime = func() time.Duration {
			b := randomBytes(1)
			return 60*time.Minute + time.Duration(int(b[0])%31)*time.Minute
		}
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base of both the login and the Graph endpoints: use it as
// loginURL and graphURL.
func (s *Server) URL() string { return s.ts.URL }

// TenantID, ClientID and ClientSecret are the app's credentials.
func (s *Server) TenantID() string     { return s.opts.TenantID }
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Close stops the server.
func (s *Server) Close() { s.ts.Close() }

func (s *Server) now() time.Time { return s.opts.Clock() }

// SetRoles replaces the app's granted permissions; tokens issued later
// carry the new roles (existing tokens keep theirs, as in Entra).
func (s *Server) SetRoles(roles ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Roles = roles
}

// After runs fn once the n-th Graph request (token requests excluded) has
// been answered; tests use it to change things mid-run.
func (s *Server) After(n int, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, hook{after: n, fn: fn})
}

// Requests returns what the emulator served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// GraphRequests counts Graph requests whose path contains part (all of
// them for "").
func (s *Server) GraphRequests(part string) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/") && strings.Contains(r.Path, part) {
			n++
		}
	}
	return n
}

// TokenRequests counts requests to the token endpoint.
func (s *Server) TokenRequests() int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			n++
		}
	}
	return n
}

// EarlyRetries counts requests that arrived before a Retry-After the
// emulator had sent was over.
func (s *Server) EarlyRetries() int {
	n := 0
	for _, r := range s.Requests() {
		if r.Early {
			n++
		}
	}
	return n
}

// serve routes a request; every response carries request-id and
// client-request-id ("Response headers on every call", cloud-apis.md §2).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := newGUID()
	w.Header().Set("request-id", reqID)
	// Graph sends Date; on the emulator's clock, so a Retry-After date
	// means the same thing to a client on the shared fake clock.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = reqID
	}
	w.Header().Set("client-request-id", crid)
	w.Header().Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"graphtest"}}`)
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, At: s.now()}
	var fire []func()
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		s.serveToken(rec, r)
	} else {
		s.mu.Lock()
		if !s.notBefore.IsZero() && entry.At.Before(s.notBefore) {
			entry.Early = true
		}
		s.mu.Unlock()
		s.serveGraph(rec, r, reqID)
		s.mu.Lock()
		s.graphN++
		kept := s.hooks[:0]
		for _, h := range s.hooks {
			if s.graphN >= h.after {
				fire = append(fire, h.fn)
			} else {
				kept = append(kept, h)
			}
		}
		s.hooks = kept
		s.mu.Unlock()
	}
	entry.Status = rec.status
	s.mu.Lock()
	s.requests = append(s.requests, entry)
	s.mu.Unlock()
	for _, fn := range fire {
		fn()
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, reqID string) {
	if s.takeFault(w, reqID) {
		return
	}
	tok, ok := s.authorize(w, r, reqID)
	if !ok {
		return
	}
	if r.Method != http.MethodGet {
		graphError(w, reqID, http.StatusMethodNotAllowed, "Request_BadRequest", "The emulator serves GET requests only.")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case !strings.HasPrefix(r.URL.Path, "/v1.0/"):
		graphError(w, reqID, http.StatusNotFound, "BadRequest", "Invalid version.")
	case len(parts) == 2 && parts[1] == "delta" && (parts[0] == "users" || parts[0] == "groups"):
		if s.requireRole(w, reqID, tok, parts[0]) {
			s.serveDelta(w, r, reqID, parts[0])
		}
	case parts[0] == "users" || parts[0] == "groups":
		if s.requireRole(w, reqID, tok, parts[0]) {
			s.serveRead(w, r, reqID, parts)
		}
	default:
		graphError(w, reqID, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", parts[0]))
	}
}

func newGUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
