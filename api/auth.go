package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// errUnauthenticated is what a client learns about a bad token: nothing
// that tells a guessed id from a guessed secret.
var errUnauthenticated = errors.New("missing or invalid bearer token")

// bootstrapID is the rate-limit key of the SCIMGATE_ADMIN_TOKEN bearer.
const bootstrapID = "bootstrap"

// denial is why a request was refused before its handler ran; each API
// renders it in its own error shape.
type denial struct {
	status     int
	retryAfter int // seconds; 0: no Retry-After header
	msg        string
}

func (d *denial) apply(h http.Header) {
	if d.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="scimgate"`)
	}
	if d.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(d.retryAfter))
	}
}

// admit authenticates r and applies the limits both APIs share. It
// returns the token (a synthetic admin row with ID bootstrapID for the
// bootstrap token when allowBootstrap) or why the request is refused.
//
// An address over its failure limit is refused before its token is
// looked at, even a valid one, until the window frees: answering a valid
// token during the block would tell a guesser which guess was right, so
// the limit would no longer bound the guesses checked per minute.
func (s *Server) admit(r *http.Request, allowBootstrap bool) (storage.Token, *denial) {
	now := s.cfg.Store.Now()
	addr := s.clientAddr(r)
	if wait, blocked := s.authFails.blocked(addr, now); blocked {
		secs := retryAfterSeconds(wait)
		return storage.Token{}, &denial{status: http.StatusTooManyRequests, retryAfter: secs,
			msg: fmt.Sprintf("too many failed authentications from this address (more than %d a minute); retry in %d s", s.cfg.AuthFailuresPerMinute, secs)}
	}
	var tok storage.Token
	if allowBootstrap && s.bootstrapAdmin(r) {
		tok = storage.Token{ID: bootstrapID, Name: bootstrapID, Role: storage.RoleAdmin}
	} else {
		var err error
		tok, err = s.tokenFor(r, addr, now)
		if err != nil {
			return storage.Token{}, &denial{status: http.StatusUnauthorized, msg: err.Error()}
		}
	}
	if wait, ok := s.rates.take(tok.ID, now); !ok {
		secs := retryAfterSeconds(wait)
		return storage.Token{}, &denial{status: http.StatusTooManyRequests, retryAfter: secs,
			msg: fmt.Sprintf("token %s is over its request rate (%d a second, bursts of %d); retry in %d s", tok.Name, s.cfg.TokenRequestsPerSecond, int(s.rates.burst), secs)}
	}
	return tok, nil
}

// tokenFor finds the token r presents. A presented but wrong credential is
// logged (client address, and the token id when the id exists, never the
// secret) and counted against the address; a request with no credential
// at all is no guess and is not counted.
func (s *Server) tokenFor(r *http.Request, addr string, now time.Time) (storage.Token, error) {
	h := r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		return storage.Token{}, errUnauthenticated
	}
	reject := func(reason, knownID string) (storage.Token, error) {
		attrs := []any{"client", addr, "reason", reason}
		if knownID != "" {
			attrs = append(attrs, "token_id", knownID)
		}
		s.log.Warn("authentication failed", attrs...)
		if s.authFails.fail(addr, now) {
			s.log.Warn("authentication failures over the limit; refusing this address for the rest of the minute",
				"client", addr, "limit", s.cfg.AuthFailuresPerMinute)
		}
		return storage.Token{}, errUnauthenticated
	}
	scheme, bearer, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return reject("not a bearer token", "")
	}
	id, hash, ok := parseToken(strings.TrimSpace(bearer))
	if !ok {
		return reject("malformed token", "")
	}
	tok, err := s.lookupToken(r.Context(), id)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.log.Error("token lookup failed", "error", err)
			return storage.Token{}, errUnauthenticated // our fault, not a guess
		}
		return reject("unknown token id", "")
	}
	if subtle.ConstantTimeCompare(tok.Hash, hash[:]) != 1 {
		return reject("wrong secret", tok.ID)
	}
	return tok, nil
}

// clientAddr is the address failures are counted against: the TCP peer,
// unless the peer is a trusted proxy, in which case the right-most
// X-Forwarded-For entry that is not itself a trusted proxy. Nothing is
// taken from headers by default, as any client can send them.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(s.cfg.TrustedProxies) == 0 || !s.trusted(host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // a garbled entry: stop trusting what is left of it
		}
		if !s.trusted(hop) {
			return hop
		}
	}
	return host
}

func (s *Server) trusted(host string) bool {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
