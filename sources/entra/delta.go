package entra

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// page is one page of a delta round or a list.
type page struct {
	Value     []object `json:"value"`
	NextLink  string   `json:"@odata.nextLink"`
	DeltaLink string   `json:"@odata.deltaLink"`
}

// walk follows a delta round from start, page by page, to its deltaLink,
// which it returns (delta-query-overview: every page has exactly one of
// nextLink and deltaLink, and an empty page may still have a nextLink).
// A stale token anywhere in the round is reported as errStale.
//
// The next page is fetched while each handles the current one, so Graph
// and the engine's writes overlap; pages are still handled in order.
func (s *source) walk(ctx context.Context, start string, each func(ctx context.Context, objs []object) error) (string, error) {
	type fetched struct {
		p   page
		err error
		url string
	}
	fetchCtx, cancel := context.WithCancel(ctx)
	pages := make(chan fetched, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(pages)
		for next := start; next != ""; {
			var f fetched
			f.url = next
			f.err = sources.Recover(func() error { return s.client.get(fetchCtx, f.url, &f.p) })
			select {
			case pages <- f:
			case <-fetchCtx.Done():
				return
			}
			if f.err != nil || f.p.DeltaLink != "" {
				return
			}
			next = f.p.NextLink
		}
	}()
	defer func() {
		cancel()
		<-done // no request outlives the round
	}()
	for f := range pages {
		switch {
		case f.err != nil && isStale(f.err):
			return "", fmt.Errorf("%w: %w", errStale, f.err)
		case f.err != nil:
			return "", f.err
		}
		if err := each(ctx, f.p.Value); err != nil {
			return "", err
		}
		switch {
		case f.p.DeltaLink != "":
			return f.p.DeltaLink, nil
		case f.p.NextLink == "":
			return "", fmt.Errorf("entra: a delta page of %s had neither @odata.nextLink nor @odata.deltaLink", pathOf(f.url))
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("entra: the delta round of %s ended without a deltaLink", pathOf(start))
}

func pathOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Path
	}
	return raw
}

// userProperties are read on every run: every property the default
// mapping uses, and the ones a mapping override most likely wants.
// Properties outside Graph's default set come back "only with $select"
// (user-list), and a change to an unselected property does not surface
// the user in a delta (delta-query-overview), so the list is explicit.
var userProperties = []string{
	"userPrincipalName", "displayName", "givenName", "surname", "mail",
	"accountEnabled", "jobTitle", "mobilePhone", "businessPhones",
	"officeLocation", "preferredLanguage", "employeeId", "department",
	"companyName", "employeeType", "userType", "onPremisesImmutableId",
	"mailNickname",
}

// groupProperties are read for groups; members is the navigation property
// that yields members@delta (delta-query-overview: "$select also
// supports manager and members").
var groupProperties = []string{"displayName", "description", "mailNickname"}

// userSelect is the $select of the users round: the properties, extras,
// and manager (tracked as manager@delta; $expand is not supported on
// delta, and expansions are capped anyway).
func (s *source) userSelect() string {
	props := append([]string{"id"}, userProperties...)
	for _, a := range s.cfg.ExtraAttributes {
		dup := false
		for _, p := range props {
			dup = dup || strings.EqualFold(p, a)
		}
		if !dup {
			props = append(props, a)
		}
	}
	return strings.Join(append(props, "manager"), ",")
}

func (s *source) groupSelect() string {
	return strings.Join(append(append([]string{"id"}, groupProperties...), "members"), ",")
}

func (s *source) usersStart() string {
	return s.cfg.graphURL() + "/v1.0/users/delta?$select=" + s.userSelect()
}

func (s *source) groupsStart() string {
	return s.cfg.graphURL() + "/v1.0/groups/delta?$select=" + s.groupSelect()
}

// usersByID starts a delta round over at most 50 given users ($filter=id
// eq '..' or ..., user-delta): being a first round, it returns each of
// them in full, manager included.
func (s *source) usersByID(ids []string) string {
	terms := make([]string, len(ids))
	for i, id := range ids {
		terms[i] = "id eq '" + strings.ReplaceAll(id, "'", "''") + "'"
	}
	f := strings.ReplaceAll(url.QueryEscape(strings.Join(terms, " or ")), "+", "%20")
	return s.usersStart() + "&$filter=" + f
}

// maxFilterIDs is delta's limit of filtered objects (user-delta).
const maxFilterIDs = 50

// groupAcc gathers one group of a full round: a big group arrives split
// over several pages, in no set order (delta-query-groups), so members
// merge by id.
type groupAcc struct {
	attrs   map[string]string
	members map[string]bool // id -> is a group
}

// groupChange gathers one group of an incremental round.
type groupChange struct {
	attrs   map[string]string
	add     map[string]bool // id -> is a group
	remove  map[string]bool
	removed bool
}

// mergeGroup folds one page's view of a group into acc.
func mergeGroup(acc map[string]*groupAcc, p parsed) {
	g := acc[p.id]
	if g == nil {
		g = &groupAcc{attrs: p.attrs, members: map[string]bool{}}
		acc[p.id] = g
	} else {
		maps.Copy(g.attrs, p.attrs)
	}
	for _, l := range p.links["members"] {
		if !l.user && !l.group {
			continue // contacts, devices, service principals are not ours
		}
		if l.removed {
			delete(g.members, l.id)
		} else {
			g.members[l.id] = l.group
		}
	}
}

// mergeChange folds one page's view of a changed group into ch; the later
// entry for a member wins (replays are possible: delta-query-overview).
func mergeChange(ch map[string]*groupChange, p parsed) {
	g := ch[p.id]
	if p.removed != "" {
		ch[p.id] = &groupChange{removed: true}
		return
	}
	if g == nil || g.removed {
		g = &groupChange{attrs: p.attrs, add: map[string]bool{}, remove: map[string]bool{}}
		ch[p.id] = g
	} else {
		maps.Copy(g.attrs, p.attrs)
	}
	for _, l := range p.links["members"] {
		if !l.user && !l.group {
			continue
		}
		if l.removed {
			delete(g.add, l.id)
			g.remove[l.id] = l.group
		} else {
			delete(g.remove, l.id)
			g.add[l.id] = l.group
		}
	}
}

// problem reports an object the source could not read.
// parseEach parses a page of delta objects: those it cannot read are
// reported as problems found in where, the others go to fn.
func parseEach(ctx context.Context, out sources.Sink, where string, objs []object, fn func(parsed)) error {
	for _, o := range objs {
		p, err := parseObject(o)
		if err != nil {
			if err := problem(ctx, out, where, err); err != nil {
				return err
			}
			continue
		}
		fn(p)
	}
	return nil
}

func problem(ctx context.Context, out sources.Sink, where string, err error) error {
	return out.Problem(ctx, sources.Problem{Where: where, Message: err.Error()})
}
