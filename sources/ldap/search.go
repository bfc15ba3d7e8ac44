package ldap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// OIDs of the AD controls used here.
const (
	oidExtendedDN  = "1.2.840.113556.1.4.529"
	oidShowDeleted = "1.2.840.113556.1.4.417"
	oidPaging      = goldap.ControlTypePaging
)

// extendedDN asks for DN values (member, manager, the entry's own DN) as
// <GUID=...>;<SID=...>;CN=..., so members map to keys without a lookup.
// The value is the BER of SEQUENCE { INTEGER 1 } (1: GUIDs as strings).
func extendedDNControl() goldap.Control {
	return goldap.NewControlString(oidExtendedDN, true, "\x30\x03\x02\x01\x01")
}

// stats counts the requests a source made; tests read them.
type stats struct {
	searches      atomic.Int64 // search requests, one per page
	rangeRequests atomic.Int64 // follow-up requests for more member values
	referrals     atomic.Int64 // continuation references seen and not chased
	reconnects    atomic.Int64 // new connections after a fault
}

// session is one run's view of a bound connection.
type session struct {
	c     conn
	set   settings
	log   *slog.Logger
	stats *stats
	// open makes a new bound connection and clock waits between
	// attempts; both are used only to recover from a fault (see retried).
	open     func(ctx context.Context) (conn, error)
	clock    sources.Clock
	upstream sources.UpstreamObserver
}

// paged runs a subtree search with the paging control and hands each page
// (at most size entries) to fn. The next page is fetched while fn
// works on this one, so the directory and the engine's writes overlap; at
// most two pages are held at a time.
func (s *session) paged(ctx context.Context, base, filter string, attrs []string, controls []goldap.Control, size int, fn func([]*goldap.Entry) error) error {
	type page struct {
		entries []*goldap.Entry
		done    []goldap.Control
		err     error
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetch := func(cookie []byte) <-chan page {
		paging := goldap.NewControlPaging(uint32(size))
		paging.SetCookie(cookie)
		ctrls := append(append([]goldap.Control{}, controls...), paging)
		req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false, filter, attrs, ctrls)
		ch := make(chan page, 1)
		go func() {
			var p page
			p.err = sources.Recover(func() (err error) {
				p.entries, p.done, err = s.search(pctx, req)
				return err
			})
			ch <- p
		}()
		return ch
	}
	next := fetch(nil)
	for {
		p := <-next
		if p.err != nil {
			return p.err
		}
		cookie := pagingCookie(p.done)
		if len(cookie) > 0 {
			next = fetch(cookie)
		}
		if err := fn(p.entries); err != nil {
			if len(cookie) > 0 {
				cancel()
				<-next // the prefetch ends once canceled
			}
			return err
		}
		if len(cookie) == 0 {
			return nil
		}
	}
}

// search runs one request and returns its entries and the controls of its
// final message. Continuation references are counted, not chased.
func (s *session) search(ctx context.Context, req *goldap.SearchRequest) ([]*goldap.Entry, []goldap.Control, error) {
	s.stats.searches.Add(1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops go-ldap's reader goroutine if we return early
	resp := s.c.SearchAsync(rctx, req, 64)
	var entries []*goldap.Entry
	var done []goldap.Control
	for resp.Next() {
		switch {
		case resp.Entry() != nil:
			entries = append(entries, resp.Entry())
		case resp.Referral() != "":
			s.stats.referrals.Add(1)
			s.log.Debug("ldap: continuation reference not chased", "referral", resp.Referral())
		default:
			done = resp.Controls()
		}
	}
	err := resp.Err()
	if ctx.Err() != nil {
		// The run was cancelled: that is the cause, whatever the
		// connection said as it was torn down (a clean end, or "response
		// channel closed" when the cancel won the race with the reader).
		err = ctx.Err()
	}
	if err != nil {
		s.upstream.ObserveUpstream(outcome(err))
		return nil, nil, s.searchError(req.BaseDN, err)
	}
	s.upstream.ObserveUpstream(sources.UpstreamOK)
	return entries, done, nil
}

// base reads one object; nil when it does not exist.
func (s *session) base(ctx context.Context, dn string, attrs []string, controls ...goldap.Control) (*goldap.Entry, error) {
	req := goldap.NewSearchRequest(dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, controls)
	entries, _, err := s.search(ctx, req)
	if errors.Is(err, ErrBaseDN) {
		return nil, nil
	}
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	return entries[0], nil
}

func pagingCookie(controls []goldap.Control) []byte {
	if c, ok := goldap.FindControl(controls, oidPaging).(*goldap.ControlPaging); ok {
		return c.Cookie
	}
	return nil
}

func outcome(err error) sources.UpstreamOutcome {
	if errors.Is(err, context.DeadlineExceeded) || goldap.IsErrorAnyOf(err, goldap.LDAPResultTimeLimitExceeded, goldap.LDAPResultTimeout) ||
		strings.Contains(err.Error(), "timed out") {
		return sources.UpstreamTimeout
	}
	if goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy, goldap.LDAPResultUnavailable) {
		return sources.UpstreamThrottled
	}
	return sources.UpstreamError
}

// searchError explains a failed search; the result still unwraps to
// go-ldap's error for its code.
func (s *session) searchError(base string, err error) error {
	var ldapErr *goldap.Error
	if !errors.As(err, &ldapErr) {
		return fmt.Errorf("ldap: search under %s: %w", base, err)
	}
	switch ldapErr.ResultCode {
	case goldap.LDAPResultNoSuchObject:
		return described(fmt.Sprintf("%v: %s does not exist on the server", ErrBaseDN, base), ErrBaseDN, err)
	case goldap.LDAPResultReferral:
		return described(fmt.Sprintf("%v: %s is not held by this server, which refers elsewhere (%s); use a naming context of this DC",
			ErrBaseDN, base, diagnostic(err)), ErrBaseDN, err)
	case goldap.LDAPResultSizeLimitExceeded:
		return described(fmt.Sprintf("ldap: the server stopped at its size limit under %s (%s)", base, diagnostic(err)), err)
	case goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultOperationsError:
		return described(fmt.Sprintf("ldap: the bind account may not search under %s: %s", base, diagnostic(err)), err)
	case goldap.ErrorNetwork:
		return described(fmt.Sprintf("%v: the connection broke during a search under %s: %s", ErrUnreachable, base, diagnostic(err)), ErrUnreachable, err)
	case goldap.LDAPResultTimeLimitExceeded:
		// Not retried: the same search would hit the same limit.
		return described(fmt.Sprintf("ldap: the search under %s hit the server's time limit (LDAP result code 3: %s); "+
			"narrow the base DN or the filter, or raise MaxQueryDuration in the DC's LDAP policy", base, diagnostic(err)), err)
	case goldap.LDAPResultBusy, goldap.LDAPResultUnavailable:
		return fmt.Errorf("ldap: search under %s: %w", base, err)
	}
	return described(fmt.Sprintf("ldap: the server refused the search under %s with LDAP result code %d (%s): %s",
		base, ldapErr.ResultCode, goldap.LDAPResultCodeMap[ldapErr.ResultCode], diagnostic(err)), err)
}

// describedError is a message in words over the errors it explains.
type describedError struct {
	msg    string
	causes []error
}

func (e *describedError) Error() string   { return e.msg }
func (e *describedError) Unwrap() []error { return e.causes }

func described(msg string, causes ...error) error { return &describedError{msg: msg, causes: causes} }

// rootDSE is what a run needs from the server's root entry.
type rootDSE struct {
	highestUSN int64
	dc         string // dsServiceName: USNs are only comparable on one DC
	defaultNC  string
	namingCtx  []string
	controls   map[string]bool
}

func (s *session) rootDSE(ctx context.Context) (rootDSE, error) {
	e, err := s.base(ctx, "", []string{"highestCommittedUSN", "dsServiceName", "defaultNamingContext", "namingContexts", "supportedControl"})
	if err != nil {
		return rootDSE{}, fmt.Errorf("ldap: read the root DSE: %w", err)
	}
	if e == nil {
		return rootDSE{}, errors.New("ldap: the server returned no root DSE")
	}
	d := rootDSE{
		dc:        e.GetEqualFoldAttributeValue("dsServiceName"),
		defaultNC: e.GetEqualFoldAttributeValue("defaultNamingContext"),
		namingCtx: e.GetEqualFoldAttributeValues("namingContexts"),
		controls:  map[string]bool{},
	}
	for _, oid := range e.GetEqualFoldAttributeValues("supportedControl") {
		d.controls[oid] = true
	}
	if v := e.GetEqualFoldAttributeValue("highestCommittedUSN"); v != "" {
		if d.highestUSN, err = strconv.ParseInt(v, 10, 64); err != nil {
			return rootDSE{}, fmt.Errorf("ldap: highestCommittedUSN %q is not a number", v)
		}
	}
	return d, nil
}

// checkAD says what this server lacks to be synced as Active Directory.
func (d rootDSE) checkAD() error {
	var missing []string
	if !d.controls[oidPaging] {
		missing = append(missing, "paged results")
	}
	if !d.controls[oidExtendedDN] {
		missing = append(missing, "extended DN")
	}
	if d.highestUSN == 0 {
		missing = append(missing, "highestCommittedUSN")
	}
	if len(missing) > 0 {
		return fmt.Errorf("ldap: the server is not Active Directory (it lacks %s); the ldap kind reads AD or Samba AD", strings.Join(missing, ", "))
	}
	return nil
}
