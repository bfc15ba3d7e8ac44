package ldap

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// source is an opened ldap source.
type source struct {
	set   settings
	log   *slog.Logger
	clock sources.Clock // the run's start time; waits between attempts after a fault
	// upstream is told the outcome of every search.
	upstream sources.UpstreamObserver
	stats    stats
	// open connects and binds; tests put a fake directory here.
	open func(ctx context.Context) (conn, error)
}

var (
	_ sources.Source = (*source)(nil)
	_ sources.Tester = (*source)(nil)
)

// cursor is what a run saves for the next one.
type cursor struct {
	V int `json:"v"`
	// USN is the DC's highestCommittedUSN read before the run's searches,
	// so a change made during the run is seen again, never missed.
	USN int64 `json:"usn"`
	// DC is the dsServiceName of the DC the USN belongs to.
	DC string `json:"dc"`
	// FullAt is when the last full enumeration started.
	FullAt time.Time `json:"fullAt"`
}

func (s *source) connectOrFake(ctx context.Context) (conn, error) {
	if s.open != nil {
		return s.open(ctx)
	}
	return s.connect(ctx)
}

// Sync runs a full or an incremental enumeration; see the package doc.
func (s *source) Sync(ctx context.Context, req sources.Request, out sources.Sink) (sources.Result, error) {
	ses := s.session(nil)
	defer func() {
		if ses.c != nil {
			ses.c.Close() // a reconnect may have replaced the first
		}
	}()
	// A DC that is restarting or shedding load at the start of a run is
	// waited for as one met mid-run is (Test does not wait: it reports
	// the fault as it finds it).
	err := ses.retried(ctx, "connect", func() error {
		if ses.c != nil {
			return nil // connected by a retry's reconnect
		}
		c, err := ses.open(ctx)
		if err == nil {
			ses.c = c
		}
		return err
	})
	if err != nil {
		return sources.Result{}, err
	}
	var dse rootDSE
	err = ses.retried(ctx, "read the root DSE", func() (err error) {
		dse, err = ses.rootDSE(ctx)
		return err
	})
	if err != nil {
		return sources.Result{}, err
	}
	if err := dse.checkAD(); err != nil {
		return sources.Result{}, err
	}
	now := s.clock.Now()
	prev, full, note := s.plan(req, dse, now)
	res := sources.Result{}
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	next := cursor{V: 1, USN: dse.highestUSN, DC: dse.dc, FullAt: prev.FullAt}
	rd := &reader{session: ses, now: now, out: out}
	if full {
		next.FullAt = now
		err = rd.run(ctx, s.set.userFilter, s.set.groupFilter)
		res.Complete = true
	} else {
		from := prev.USN + 1
		groups := changedSince(s.set.groupFilter, from)
		if s.set.expand {
			// A change deep in a nesting changes every group above it.
			groups = s.set.groupFilter
		}
		err = rd.run(ctx, changedSince(s.set.userFilter, from), groups)
		if err == nil {
			var dnote string
			dnote, err = rd.deletions(ctx, dse, from)
			if dnote != "" {
				res.Notes = append(res.Notes, dnote)
			}
		}
	}
	if err != nil {
		return sources.Result{}, err
	}
	if n := s.stats.referrals.Load(); n > 0 {
		s.log.Debug("ldap: continuation references ignored", "count", n)
	}
	res.Cursor, err = json.Marshal(next)
	if err != nil {
		return sources.Result{}, fmt.Errorf("ldap: encode cursor: %w", err)
	}
	return res, nil
}

// session wraps a bound connection for one run.
func (s *source) session(c conn) *session {
	return &session{c: c, set: s.set, log: s.log, stats: &s.stats, open: s.connectOrFake, clock: s.clock, upstream: s.upstream}
}

// plan decides between a full and an incremental run, and says why when
// the admin would wonder.
func (s *source) plan(req sources.Request, dse rootDSE, now time.Time) (prev cursor, full bool, note string) {
	if req.Full || len(req.Cursor) == 0 {
		return cursor{}, true, ""
	}
	if err := json.Unmarshal(req.Cursor, &prev); err != nil || prev.V != 1 {
		return cursor{}, true, "the saved position could not be read: full run"
	}
	switch {
	case prev.DC != dse.dc:
		return prev, true, fmt.Sprintf("connected to another domain controller (%s, was %s); USNs are per DC: full run", dse.dc, prev.DC)
	case dse.highestUSN < prev.USN:
		return prev, true, fmt.Sprintf("the DC's highestCommittedUSN went back from %d to %d (restored?): full run", prev.USN, dse.highestUSN)
	case now.Sub(prev.FullAt) >= s.set.reconcileEvery:
		return prev, true, fmt.Sprintf("periodic full run (every %s) to find deletions and objects that left the scope", s.set.reconcileEvery)
	}
	return prev, false, ""
}

// changedSince restricts filter to objects changed at or after usn.
func changedSince(filter string, usn int64) string {
	return "(&" + filter + "(uSNChanged>=" + goldap.EscapeFilter(formatUSN(usn)) + "))"
}

func formatUSN(usn int64) string { return strconv.FormatInt(usn, 10) }

// reader streams one run's users and groups into the sink.
type reader struct {
	*session
	now time.Time
	out sources.Sink
}

func (r *reader) run(ctx context.Context, userFilter, groupFilter string) error {
	if err := r.users(ctx, userFilter); err != nil {
		return err
	}
	return r.groups(ctx, groupFilter)
}

// problem reports p unless this search already did (before a restart).
func (r *reader) problem(ctx context.Context, seen sent, p sources.Problem) error {
	if !seen.first("problem\x00" + p.Where + "\x00" + p.Message) {
		return nil
	}
	return r.out.Problem(ctx, p)
}

// users pages through users, one engine page per LDAP page.
func (r *reader) users(ctx context.Context, filter string) error {
	seen := sent{}
	return r.retried(ctx, "read users under "+r.set.userBaseDN, func() error {
		return r.usersOnce(ctx, filter, seen)
	})
}

func (r *reader) usersOnce(ctx context.Context, filter string, seen sent) error {
	lookup := attrSpelling(r.set.userAttrs)
	return r.paged(ctx, r.set.userBaseDN, filter, r.set.userAttrs, []goldap.Control{extendedDNControl()}, r.set.pageSize, func(entries []*goldap.Entry) error {
		page := make([]sources.UserRecord, 0, len(entries))
		for _, e := range entries {
			rec, problem := userRecord(e, lookup, r.set.userNameAttr, r.now)
			if problem != nil {
				if err := r.problem(ctx, seen, *problem); err != nil {
					return err
				}
				continue
			}
			if !seen.first(rec.Key) {
				continue // sent before a restart
			}
			page = append(page, rec)
		}
		if len(page) == 0 {
			return nil
		}
		return r.out.Users(ctx, page)
	})
}
