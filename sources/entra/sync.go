package entra

import (
	"context"
	"errors"
	"slices"

	"github.com/scimgate/scimgate/sources"
)

// Notes a run can carry.
const (
	noteStale        = "delta token expired: full resync"
	noteScopeChanged = "membership of the scope groups changed: full resync"
)

// errScopeChanged: an incremental round touched the scope groups'
// membership, so who is in scope must be worked out again.
var errScopeChanged = errors.New("entra: scope groups changed")

// emitBatch is how many records go to the sink at a time.
const emitBatch = 500

// Sync runs a full enumeration the first time (and when asked, or when
// the saved position cannot be used), otherwise replays the saved
// deltaLinks and applies only the changes. An incremental run sends
// nothing to the sink until both rounds are read, so when Graph says the
// token is stale it falls back to a full resync without having sent
// anything twice.
func (s *source) Sync(ctx context.Context, req sources.Request, out sources.Sink) (sources.Result, error) {
	cur, why := s.resume(req)
	if cur != nil {
		res, err := s.incremental(ctx, cur, out)
		switch {
		case err == nil:
			return res, nil
		case errors.Is(err, errStale):
			s.log.Warn("delta token no longer valid; running a full resync", "error", err)
			why = noteStale
		case errors.Is(err, errScopeChanged):
			why = noteScopeChanged
		default:
			return sources.Result{}, err
		}
	}
	res, err := s.full(ctx, out)
	if err != nil {
		return sources.Result{}, err
	}
	if why != "" {
		res.Notes = append([]string{why}, res.Notes...)
	}
	return res, nil
}

// full enumerates everything: a first delta round of groups (merged in
// memory, members and all), then of users (streamed page by page), then
// the groups. The two deltaLinks become the cursor.
func (s *source) full(ctx context.Context, out sources.Sink) (sources.Result, error) {
	groups := map[string]*groupAcc{}
	var groupDels []sources.Deletion
	groupsLink, err := s.walk(ctx, s.groupsStart(), func(ctx context.Context, objs []object) error {
		return parseEach(ctx, out, "a group from /groups/delta", objs, func(p parsed) {
			if p.removed != "" {
				delete(groups, p.id)
				groupDels = append(groupDels, sources.Deletion{Kind: sources.KindGroup, Key: p.id})
				return
			}
			mergeGroup(groups, p)
		})
	})
	if err != nil {
		return sources.Result{}, err
	}
	var scope *scopeSet
	if len(s.cfg.ScopeGroups) > 0 {
		if scope, err = scopeFromGroups(s.cfg.ScopeGroups, groups); err != nil {
			return sources.Result{}, err
		}
	}
	seen := make(map[string]struct{}, 1024)
	usersLink, err := s.walk(ctx, s.usersStart(), func(ctx context.Context, objs []object) error {
		recs := make([]sources.UserRecord, 0, len(objs))
		var dels []sources.Deletion
		err := parseEach(ctx, out, "a user from /users/delta", objs, func(p parsed) {
			if _, dup := seen[p.id]; dup {
				// Replays: the same user can come twice in a round
				// (delta-query-overview); the first is kept.
				return
			}
			seen[p.id] = struct{}{}
			switch {
			case p.removed != "":
				dels = append(dels, sources.Deletion{Kind: sources.KindUser, Key: p.id, Soft: p.removed == "changed"})
			case scope != nil && !scope.hasUser(p.id):
			default:
				attrs, _ := userAttrs(p)
				recs = append(recs, sources.UserRecord{Key: p.id, Attrs: attrs})
			}
		})
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			if err := out.Users(ctx, recs); err != nil {
				return err
			}
		}
		if len(dels) > 0 {
			return out.Deletions(ctx, dels)
		}
		return nil
	})
	if err != nil {
		return sources.Result{}, err
	}
	if err := s.emitFullGroups(ctx, out, groups, scope); err != nil {
		return sources.Result{}, err
	}
	if len(groupDels) > 0 {
		if err := out.Deletions(ctx, groupDels); err != nil {
			return sources.Result{}, err
		}
	}
	return s.result(usersLink, groupsLink, scope, true)
}

// emitFullGroups sends every (in-scope) group with its complete member
// list, in id order.
func (s *source) emitFullGroups(ctx context.Context, out sources.Sink, groups map[string]*groupAcc, scope *scopeSet) error {
	ids := make([]string, 0, len(groups))
	for id := range groups {
		if scope == nil || scope.hasGroup(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	batch := make([]sources.GroupRecord, 0, min(len(ids), emitBatch))
	for _, id := range ids {
		g := groups[id]
		members := make([]string, 0, len(g.members))
		for m := range g.members {
			members = append(members, m)
		}
		slices.Sort(members)
		batch = append(batch, sources.GroupRecord{Key: id, Attrs: g.attrs, Members: members, MembersComplete: true})
		groups[id] = nil // let the memory go as the groups leave
		if len(batch) == emitBatch {
			if err := out.Groups(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return out.Groups(ctx, batch)
	}
	return nil
}
