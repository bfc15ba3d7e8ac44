// Package okta is the okta source kind: users, groups and memberships
// read from an Okta org's management API over plain net/http.
//
// A run is either a full reconcile or a delta:
//
//   - full: every user (GET /api/v1/users with a lastUpdated filter every
//     user matches, because the unfiltered list hides DEPROVISIONED users),
//     every group in scope (GET /api/v1/groups) and each one's members
//     (GET /api/v1/groups/{id}/users). The result is complete, so the
//     engine turns absences, such as hard-deleted users, into deletions
//     through its guard.
//   - delta: users with lastUpdated after the watermark, and groups whose
//     lastUpdated or lastMembershipUpdated is after it, each with its
//     complete, re-read member list. The result is not complete; nothing
//     is deleted for being absent.
//
// The first run, a run asked to be full, and any run once
// fullReconcileInterval (default 24h) has passed since the last full one
// are full; the rest are deltas. The cursor (see state.go) keeps the
// watermarks and the time of the last full reconcile.
//
// Every listing pages by following Link: rel="next" verbatim, keeps to
// Okta's rate limits (see ratelimit.go) and to maxConcurrency requests at
// once. DEPROVISIONED users come as records with active=false, not as
// deletions; see status.go for every status.
package okta

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scimgate/scimgate/sources"
)

// Kind registers the okta kind.
func Kind() sources.Kind {
	// One registry per kind: every source and run on an org shares its
	// rate-limit budget (see ratelimit.go).
	budgets := newOrgBudgets()
	return sources.Kind{
		New:         func() sources.Config { return &Config{budgets: budgets} },
		Description: "Users, groups and memberships from an Okta org (API token or OAuth 2.0 service app), incremental by lastUpdated.",
		UserMapping: sources.Mapping{
			"externalId":                "{id}",
			"userName":                  "{login}",
			"emails.work":               "{email}",
			"emails.other":              "{secondEmail}",
			"name.givenName":            "{firstName}",
			"name.familyName":           "{lastName}",
			"name.middleName":           "{middleName}",
			"name.honorificPrefix":      "{honorificPrefix}",
			"name.honorificSuffix":      "{honorificSuffix}",
			"displayName":               "{displayName}",
			"nickName":                  "{nickName}",
			"title":                     "{title}",
			"userType":                  "{userType}",
			"preferredLanguage":         "{preferredLanguage}",
			"locale":                    "{locale}",
			"timezone":                  "{timezone}",
			"profileUrl":                "{profileUrl}",
			"phoneNumbers.mobile":       "{mobilePhone}",
			"phoneNumbers.work":         "{primaryPhone}",
			"active":                    "{active}",
			"enterprise.employeeNumber": "{employeeNumber}",
			"enterprise.department":     "{department}",
			"enterprise.division":       "{division}",
			"enterprise.organization":   "{organization}",
			"enterprise.costCenter":     "{costCenter}",
			// managerId is the manager's Okta id when HR or an admin set it so;
			// Okta does not check it, and other values are reported unresolved.
			"enterprise.manager": "{managerId}",
		},
		GroupMapping: sources.Mapping{
			"displayName": "{name}",
			"externalId":  "{id}",
		},
	}
}

type oktaSource struct {
	cfg   settings
	log   *slog.Logger
	clock sources.Clock
	httpc *http.Client
	// upstream is told the outcome of every request.
	upstream sources.UpstreamObserver
	// budgets is the kind's rate-limit registry.
	budgets *orgBudgets
}

var (
	_ sources.Source = (*oktaSource)(nil)
	_ sources.Tester = (*oktaSource)(nil)
)

// Sync runs a full reconcile or a delta (see the package doc).
func (s *oktaSource) Sync(ctx context.Context, req sources.Request, out sources.Sink) (sources.Result, error) {
	started := s.clock.Now()
	prev, full, why := plan(req.Full, req.Cursor, s.cfg, started)
	c, err := newClient(s.cfg, s.budgets, s.httpc, s.clock, s.upstream, s.log)
	if err != nil {
		return sources.Result{}, err
	}
	var notes []string
	if why != "" {
		notes = append(notes, why)
	}
	usersSince, groupsSince := time.Unix(0, 0).UTC(), time.Time{}
	if !full {
		usersSince, groupsSince = prev.UsersSince.Add(-overlap), prev.GroupsSince.Add(-overlap)
	}
	s.log.Info("okta: sync starting", "full", full, "usersSince", usersSince, "reason", why)
	unknown := statusTally{}
	nUsers, err := s.streamUsers(ctx, c, userFilter(usersSince), out, unknown)
	if err != nil {
		return sources.Result{}, s.failed(c, err)
	}
	groupQuery := ""
	if !full {
		groupQuery = groupFilter(groupsSince)
	}
	nGroups, err := s.streamGroups(ctx, c, groupQuery, out)
	if err != nil {
		return sources.Result{}, s.failed(c, err)
	}
	// The watermark is the server's time at the first answer: anything
	// changed later has a later lastUpdated and is found next time.
	mark := started
	if d := c.firstDate.Load(); d != nil {
		mark = *d
	}
	next := cursor{Version: cursorVersion, Org: s.cfg.org.String(), Scope: s.cfg.scopeKey(),
		UsersSince: mark.UTC(), GroupsSince: mark.UTC(), LastFull: started.UTC()}
	if !full {
		next.LastFull = prev.LastFull
	}
	notes = append(notes, s.summary(c, full, nUsers, nGroups, unknown)...)
	return sources.Result{Complete: full, Cursor: next.encode(), Notes: notes}, nil
}

// failed logs a failed run; the engine keeps the old cursor.
func (s *oktaSource) failed(c *client, err error) error {
	waited, pauses := c.limiter.stats()
	s.log.Warn("okta: sync failed", "requests", c.requests.Load(), "rateLimitWait", waited, "pauses", pauses, "error", err)
	return fmt.Errorf("okta: %w", err)
}

func (s *oktaSource) summary(c *client, full bool, users, groups int, unknown statusTally) []string {
	waited, pauses := c.limiter.stats()
	s.log.Info("okta: sync done", "full", full, "users", users, "groups", groups, "requests", c.requests.Load(),
		"rateLimitWait", waited, "pauses", pauses)
	var notes []string
	if pauses > 0 {
		notes = append(notes, fmt.Sprintf("waited %s in %d pauses for Okta's rate limits to reset", waited.Round(time.Second), pauses))
	}
	statuses := make([]string, 0, len(unknown))
	for st, n := range unknown {
		statuses = append(statuses, fmt.Sprintf("%d with status %q", n, st))
	}
	sort.Strings(statuses)
	if len(statuses) > 0 {
		notes = append(notes, "users whose Okta status scimgate does not know were imported as inactive: "+strings.Join(statuses, ", "))
	}
	return notes
}

// Test reads one user and one group, which proves the org URL, the
// credentials and both scopes; the error says in plain words what failed.
func (s *oktaSource) Test(ctx context.Context) error {
	c, err := newClient(s.cfg, s.budgets, s.httpc, s.clock, s.upstream, s.log)
	if err != nil {
		return err
	}
	c.retries = 0 // an admin is waiting for the answer
	one := url.Values{"limit": {"1"}}
	var users []memberRef
	if _, err := c.get(ctx, c.listURL("/api/v1/users", one), &users); err != nil {
		return explain(err, s.cfg)
	}
	var groups []memberRef
	if _, err := c.get(ctx, c.listURL("/api/v1/groups", one), &groups); err != nil {
		return explain(err, s.cfg)
	}
	return nil
}
