package entra

import (
	"context"
	"slices"

	"github.com/scimgate/scimgate/sources"
)

// changedUser is a user a round reported as created or changed.
type changedUser struct {
	attrs      map[string]string
	hasManager bool
}

// incremental replays the saved deltaLinks. Everything it learns is
// proportional to the changes, so it is held until both rounds are read;
// then changed users whose records are not complete are read again, and
// only then is anything sent.
//
// Users who joined the scope groups (when scopeGroups is set) are read
// the same way.
//
// Why the re-read: a changed user comes back with every selected
// property ("If the property has not changed, the old value is included",
// user-delta), but manager@delta comes only when the manager itself
// changed [obs: graph-explorer-v4#4018]. The engine compares whole
// records, so a record without its manager would clear it. Users without
// manager@delta are therefore read again, 50 at a time, by a first delta
// round filtered on their ids, which returns them in full, manager
// included: ceil(changed/50) requests.
func (s *source) incremental(ctx context.Context, cur *cursor, out sources.Sink) (sources.Result, error) {
	groups := map[string]*groupChange{}
	groupsLink, err := s.walk(ctx, cur.Groups, func(ctx context.Context, objs []object) error {
		return parseEach(ctx, out, "a group from /groups/delta", objs, func(p parsed) {
			mergeChange(groups, p)
		})
	})
	if err != nil {
		return sources.Result{}, err
	}
	scope := cur.scope()
	var joined []string
	if scope != nil {
		var recompute bool
		if joined, recompute = scope.joiners(groups); recompute {
			return sources.Result{}, errScopeChanged
		}
	}
	users := map[string]*changedUser{}
	removed := map[string]string{}
	collect := func(ctx context.Context, objs []object) error {
		return parseEach(ctx, out, "a user from /users/delta", objs, func(p parsed) {
			if p.removed != "" {
				delete(users, p.id)
				removed[p.id] = p.removed
				return
			}
			delete(removed, p.id)
			attrs, hasManager := userAttrs(p)
			users[p.id] = &changedUser{attrs: attrs, hasManager: hasManager}
		})
	}
	usersLink, err := s.walk(ctx, cur.Users, collect)
	if err != nil {
		return sources.Result{}, err
	}
	var incomplete []string
	for id, u := range users {
		if !u.hasManager {
			incomplete = append(incomplete, id)
		}
	}
	// Users who joined the scope are new to the engine: it needs their
	// whole records, which the round has only if they changed too.
	for _, id := range joined {
		if _, ok := users[id]; !ok && removed[id] == "" {
			incomplete = append(incomplete, id)
		}
	}
	slices.Sort(incomplete)
	for start := 0; start < len(incomplete); start += maxFilterIDs {
		chunk := incomplete[start:min(start+maxFilterIDs, len(incomplete))]
		// The throwaway deltaLink of this filtered round is not kept.
		if _, err := s.walk(ctx, s.usersByID(chunk), collect); err != nil {
			return sources.Result{}, err
		}
	}
	if err := s.emitChanges(ctx, out, users, removed, groups, scope); err != nil {
		return sources.Result{}, err
	}
	return s.result(usersLink, groupsLink, scope, false)
}

// emitChanges sends changed users, then changed groups as member
// additions and removals, then the deletions.
func (s *source) emitChanges(ctx context.Context, out sources.Sink, users map[string]*changedUser, removed map[string]string,
	groups map[string]*groupChange, scope *scopeSet) error {
	ids := make([]string, 0, len(users))
	for id := range users {
		if scope == nil || scope.hasUser(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for start := 0; start < len(ids); start += emitBatch {
		chunk := ids[start:min(start+emitBatch, len(ids))]
		recs := make([]sources.UserRecord, len(chunk))
		for i, id := range chunk {
			recs[i] = sources.UserRecord{Key: id, Attrs: users[id].attrs}
		}
		if err := out.Users(ctx, recs); err != nil {
			return err
		}
	}
	var dels []sources.Deletion
	for _, id := range sortedKeys(removed) {
		dels = append(dels, sources.Deletion{Kind: sources.KindUser, Key: id, Soft: removed[id] == "changed"})
	}
	var recs []sources.GroupRecord
	for _, id := range sortedKeys(groups) {
		g := groups[id]
		switch {
		case g.removed:
			dels = append(dels, sources.Deletion{Kind: sources.KindGroup, Key: id})
		case scope != nil && !scope.hasGroup(id):
		default:
			recs = append(recs, sources.GroupRecord{Key: id, Attrs: g.attrs, AddMembers: sortedKeys(g.add), RemoveMembers: sortedKeys(g.remove)})
		}
	}
	for start := 0; start < len(recs); start += emitBatch {
		if err := out.Groups(ctx, recs[start:min(start+emitBatch, len(recs))]); err != nil {
			return err
		}
	}
	if len(dels) > 0 {
		return out.Deletions(ctx, dels)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
