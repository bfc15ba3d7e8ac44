package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// newClockedEnv is newEnvWith over a store on clock, with the server's
// log captured in logs.
func newClockedEnv(t *testing.T, cfg api.Config, clock *sourcetest.Clock, logs *syncBuffer) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scimgate.db")
	st, err := sqlstore.Open(t.Context(), path, sqlstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store = st
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{URL: ts.URL, Store: st, DBPath: path, client: ts.Client()}
	e.Reader = e.newToken(t, readerName, "reader")
	e.Writer = e.newToken(t, writerName, "writer")
	e.Admin = e.newToken(t, adminName, "admin")
	return e
}

// from returns a copy of e whose requests come from the loopback address
// ip (Linux routes all of 127.0.0.0/8 to lo), a second client address.
func (e *env) from(t *testing.T, ip string) *env {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := *e
	c.client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
	return &c
}

func wantRetryAfter(t *testing.T, r *resp, want int) {
	t.Helper()
	got, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || got != want {
		t.Errorf("%v\nRetry-After = %q, want %d", r, r.Header.Get("Retry-After"), want)
	}
}

func TestAuthFailuresPerAddressAnswer429(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	e := newClockedEnv(t, api.Config{AuthFailuresPerMinute: 20}, clock, logs)
	id := strings.Split(e.Writer, "_")[1]
	wrong := "sg_" + id + "_wrongsecretwrongsecretwrongsecret"

	// 20 failures, one second apart, are 401s; the 21st attempt is 429
	// until the first failure is a minute old.
	for i := range 20 {
		wantError(t, e.do(t, "GET", "/Users", wrong, nil), http.StatusUnauthorized, "")
		if i < 19 {
			clock.Advance(time.Second)
		}
	}
	r := e.do(t, "GET", "/Users", wrong, nil)
	wantError(t, r, http.StatusTooManyRequests, "")
	wantRetryAfter(t, r, 41) // the first failure was 19 s ago
	if !strings.Contains(r.str("detail"), "failed authentications") {
		t.Errorf("detail = %q", r.str("detail"))
	}

	// The config API shares the count, with its own error shape.
	a := e.do(t, "GET", "/api/v1/sources", wrong, nil)
	wantStatus(t, a, http.StatusTooManyRequests)
	if code, _ := at(a.JSON, "error", "code").(string); code != "too_many_requests" {
		t.Errorf("config API 429: %v", a)
	}
	wantRetryAfter(t, a, 41)

	// Another address is not affected.
	other := e.from(t, "127.0.0.2")
	wantError(t, other.do(t, "GET", "/Users", wrong, nil), http.StatusUnauthorized, "")
	wantJSON(t, other.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)

	// The blocked address's valid token waits out the window too (a pass
	// would tell a guesser its guess was right), but no longer.
	wantError(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusTooManyRequests, "")
	clock.Advance(40 * time.Second) // 1 s before the first failure expires
	wantError(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusTooManyRequests, "")
	clock.Advance(time.Second)
	wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
	// One slot freed: one more failure is a 401, then 429 again, because
	// the attempts refused with 429 did not count.
	wantError(t, e.do(t, "GET", "/Users", wrong, nil), http.StatusUnauthorized, "")
	r = e.do(t, "GET", "/Users", wrong, nil)
	wantError(t, r, http.StatusTooManyRequests, "")
	wantRetryAfter(t, r, 1)

	log := logs.String()
	if !strings.Contains(log, "authentication failed") || !strings.Contains(log, "client=127.0.0.1") ||
		!strings.Contains(log, "token_id="+id) || !strings.Contains(log, "level=WARN") {
		t.Errorf("failures not logged at warn with client and token id:\n%s", truncate(log, 2000))
	}
	if strings.Contains(log, "wrongsecret") || strings.Contains(log, strings.SplitN(e.Writer, "_", 3)[2]) {
		t.Error("a secret reached the log")
	}
}

func TestAuthFailuresUnknownIDLogsNoTokenID(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	e := newClockedEnv(t, api.Config{AuthFailuresPerMinute: 20}, clock, logs)
	wantError(t, e.do(t, "GET", "/Users", "sg_000000000000_guess", nil), http.StatusUnauthorized, "")
	// No credential at all is no guess: neither logged at warn nor counted.
	for range 25 {
		wantError(t, e.do(t, "GET", "/Users", "", nil), http.StatusUnauthorized, "")
	}
	log := logs.String()
	if !strings.Contains(log, "reason=\"unknown token id\"") || strings.Contains(log, "token_id=") {
		t.Errorf("log:\n%s", truncate(log, 2000))
	}
	if n := strings.Count(log, "authentication failed"); n != 1 {
		t.Errorf("%d failure lines, want 1", n)
	}
}

func TestAuthFailuresTrustedProxy(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	e := newClockedEnv(t, api.Config{AuthFailuresPerMinute: 2,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, clock, &syncBuffer{})
	xff := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	for range 2 {
		wantError(t, e.do(t, "GET", "/Users", "sg_000000000000_x", nil, xff("203.0.113.7")...), http.StatusUnauthorized, "")
	}
	wantError(t, e.do(t, "GET", "/Users", "sg_000000000000_x", nil, xff("203.0.113.7")...), http.StatusTooManyRequests, "")
	// Another client behind the same proxy is not blocked.
	wantError(t, e.do(t, "GET", "/Users", "sg_000000000000_x", nil, xff("203.0.113.8")...), http.StatusUnauthorized, "")

	// From an untrusted peer X-Forwarded-For is ignored: 127.0.0.2 is
	// counted as itself, whatever it claims.
	other := e.from(t, "127.0.0.2")
	for range 2 {
		wantError(t, other.do(t, "GET", "/Users", "sg_000000000000_x", nil, xff("198.51.100.1")...), http.StatusUnauthorized, "")
	}
	wantError(t, other.do(t, "GET", "/Users", "sg_000000000000_x", nil, xff("198.51.100.2")...), http.StatusTooManyRequests, "")
}

func TestTokenRateLimit(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	e := newClockedEnv(t, api.Config{TokenRequestsPerSecond: 2, TokenBurst: 5}, clock, &syncBuffer{})
	for range 5 {
		wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
	}
	r := e.do(t, "GET", "/Users", e.Reader, nil)
	wantError(t, r, http.StatusTooManyRequests, "")
	wantRetryAfter(t, r, 1)
	if !strings.Contains(r.str("detail"), "request rate") || r.has("scimType") {
		t.Errorf("429 body: %v", r)
	}
	// Other tokens have their own budget.
	wantJSON(t, e.do(t, "GET", "/Users", e.Writer, nil), http.StatusOK)
	// Admin tokens on the config API too, with a JSON API error.
	for range 5 {
		wantStatus(t, e.do(t, "GET", "/api/v1/tokens", e.Admin, nil), http.StatusOK)
	}
	a := e.do(t, "GET", "/api/v1/tokens", e.Admin, nil)
	wantStatus(t, a, http.StatusTooManyRequests)
	if code, _ := at(a.JSON, "error", "code").(string); code != "too_many_requests" {
		t.Errorf("config API 429: %v", a)
	}
	wantRetryAfter(t, a, 1)
	// Half a second refills one request at 2 a second.
	clock.Advance(500 * time.Millisecond)
	wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
	wantError(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusTooManyRequests, "")
	// 429s are counted like every other response.
	if m := e.do(t, "GET", "/metrics", "", nil); !strings.Contains(string(m.Raw), `code="429"`) {
		t.Errorf("no 429 in the metrics:\n%s", truncate(string(m.Raw), 3000))
	}
	// A rate-limited request is not an authentication failure.
	clock.Advance(10 * time.Second)
	wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
}

func TestLimitsOffByDefault(t *testing.T) {
	e := newEnv(t)
	for range 30 {
		wantError(t, e.do(t, "GET", "/Users", "sg_000000000000_x", nil), http.StatusUnauthorized, "")
	}
	for range 150 {
		wantStatus(t, e.do(t, "GET", "/Users?count=0", e.Reader, nil), http.StatusOK)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	created := e.do(t, "POST", "/api/v1/tokens", e.Admin, map[string]any{"name": "hr", "role": "reader"})
	wantStatus(t, created, http.StatusCreated)
	cases := []*resp{
		created,
		e.do(t, "GET", "/Users", e.Reader, nil),
		e.do(t, "GET", "/Users", "", nil),
		e.do(t, "GET", "/api/v1/tokens", e.Admin, nil),
		e.do(t, "GET", "/api/v1/nowhere", e.Admin, nil),
	}
	for _, r := range cases {
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%v: Cache-Control = %q, want no-store", r.desc, got)
		}
		if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%v: X-Content-Type-Options = %q, want nosniff", r.desc, got)
		}
	}
	h := e.do(t, "GET", "/healthz", "", nil)
	if got := h.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("/healthz: X-Content-Type-Options = %q", got)
	}
}

func TestMeIs501WithoutErrorLog(t *testing.T) {
	clock := sourcetest.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	logs := &syncBuffer{}
	e := newClockedEnv(t, api.Config{}, clock, logs)
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		r := e.do(t, m, "/Me", e.Writer, nil)
		wantError(t, r, http.StatusNotImplemented, "")
		if !strings.Contains(r.str("detail"), "/Me is not supported") {
			t.Errorf("%s /Me detail = %q", m, r.str("detail"))
		}
	}
	wantError(t, e.do(t, "GET", "/Me", e.Reader, nil), http.StatusNotImplemented, "")
	if log := logs.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("/Me logged at error:\n%s", truncate(log, 2000))
	}
}

// TestAuthBeforeBody: a request without a valid token is refused before
// its body is read, so an unauthenticated client cannot make the server
// buffer a megabyte per request.
func TestAuthBeforeBody(t *testing.T) {
	e := newEnv(t)
	big := strings.NewReader(strings.Repeat("x", 2<<20))
	wantError(t, e.do(t, "POST", "/Users", "sg_000000000000_x", io.Reader(big)), http.StatusUnauthorized, "")
	wantError(t, e.do(t, "POST", "/Users", e.Writer, io.Reader(strings.NewReader(strings.Repeat("x", 2<<20)))), http.StatusRequestEntityTooLarge, "")
}
