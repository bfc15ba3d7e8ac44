package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// deletions works out what the run removes: absences after a complete,
// clean enumeration, plus explicit deletions from a delta. Nothing is
// applied here; the guard looks at the list first.
func (st *runState) deletions(ctx context.Context, complete bool) ([]storage.PendingDeletion, error) {
	pol := st.job.Source.Deletion
	now := st.e.now()
	grace := time.Duration(pol.GraceDays) * 24 * time.Hour
	var out []storage.PendingDeletion
	// userAction decides what happens to one absent or deleted user.
	userAction := func(u storage.SyncedUser, soft bool) string {
		deleteNow := !soft && pol.Policy == storage.PolicyDelete && pol.GraceDays == 0
		if u.Active || u.DeactivatedAt.IsZero() {
			if deleteNow {
				return storage.ChangeDelete
			}
			return storage.ChangeDeactivate
		}
		// Deactivated by an earlier run: deleted once the grace period is over.
		if !soft && pol.GraceDays > 0 && now.Sub(u.DeactivatedAt) >= grace {
			return storage.ChangeDelete
		}
		return ""
	}
	// An explicit deletion decides for its key (a soft one deactivates
	// whatever the policy), so absence does not count that key again.
	explicitKeys := map[string]bool{}
	for _, d := range st.explicit {
		kind := sources.KindUser
		if d.Kind == sources.KindGroup {
			kind = sources.KindGroup
		}
		explicitKeys[kind+"/"+d.Key] = true
	}
	if complete && st.problems > 0 {
		st.run.Notes = append(st.run.Notes, fmt.Sprintf(
			"%d records could not be read, so this run removes nothing; fix them and run again", st.problems))
	} else if complete {
		err := st.e.store.EachSyncedUser(ctx, st.owner, func(u storage.SyncedUser) error {
			if _, seen := st.seenUsers[u.Key]; seen || explicitKeys[sources.KindUser+"/"+u.Key] {
				return nil
			}
			if a := userAction(u, false); a != "" {
				out = append(out, storage.PendingDeletion{Kind: sources.KindUser, ID: u.ID, Key: u.Key, Name: u.UserName, Action: a})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find absent users: %w", err)
		}
		err = st.e.store.EachSyncedGroup(ctx, st.owner, func(g storage.SyncedGroup) error {
			if _, seen := st.seenGroups[g.Key]; !seen && !explicitKeys[sources.KindGroup+"/"+g.Key] {
				out = append(out, storage.PendingDeletion{Kind: sources.KindGroup, ID: g.ID, Key: g.Key, Name: g.DisplayName, Action: storage.ChangeDelete})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("find absent groups: %w", err)
		}
	}
	// Explicit deletions from a delta.
	var userKeys, groupKeys []string
	soft := map[string]bool{}
	for _, d := range st.explicit {
		if d.Kind == sources.KindGroup {
			groupKeys = append(groupKeys, d.Key)
		} else {
			userKeys = append(userKeys, d.Key)
			soft[d.Key] = d.Soft
		}
	}
	for start := 0; start < len(userKeys); start += 1000 {
		found, err := st.e.store.SyncedUsers(ctx, st.owner, userKeys[start:min(start+1000, len(userKeys))])
		if err != nil {
			return nil, fmt.Errorf("look up deleted users: %w", err)
		}
		for _, u := range found {
			if a := userAction(u, soft[u.Key]); a != "" {
				out = append(out, storage.PendingDeletion{Kind: sources.KindUser, ID: u.ID, Key: u.Key, Name: u.UserName, Action: a})
			}
		}
	}
	for start := 0; start < len(groupKeys); start += 1000 {
		found, err := st.e.store.SyncedGroups(ctx, st.owner, groupKeys[start:min(start+1000, len(groupKeys))])
		if err != nil {
			return nil, fmt.Errorf("look up deleted groups: %w", err)
		}
		for _, g := range found {
			out = append(out, storage.PendingDeletion{Kind: sources.KindGroup, ID: g.ID, Key: g.Key, Name: g.DisplayName, Action: storage.ChangeDelete})
		}
	}
	if st.job.Linked {
		return st.markLeaves(ctx, out)
	}
	return out, nil
}

// guard returns why n removals are too many for this source, or "". A
// linked source's n counts the people it would remove (see guarded), its
// ownedBefore the people it contributes to.
func (st *runState) guard(n int) string {
	pol := st.job.Source.Deletion
	if pol.MaxCount > 0 && n > pol.MaxCount {
		return fmt.Sprintf("held: the run would remove %d objects, more than the limit of %d; approve or reject it", n, pol.MaxCount)
	}
	if pol.MaxPercent > 0 && st.ownedBefore > 0 {
		pct := float64(n) * 100 / float64(st.ownedBefore)
		if pct > pol.MaxPercent {
			return fmt.Sprintf("held: the run would remove %d of the source's %d users and groups (%.1f%%), more than the limit of %g%%; approve or reject it",
				n, st.ownedBefore, pct, pol.MaxPercent)
		}
	}
	return ""
}

// applyDeletions deactivates and deletes in batches.
func (st *runState) applyDeletions(ctx context.Context, list []storage.PendingDeletion) error {
	const batch = 500
	for start := 0; start < len(list); start += batch {
		chunk := list[start:min(start+batch, len(list))]
		// Each transaction stores the counts it completes; what it removed
		// is logged once it has committed.
		var ub storage.UserBatch
		var gb storage.GroupBatch
		var users, groups []storage.PendingDeletion
		for _, p := range chunk {
			switch {
			case p.Kind == sources.KindGroup:
				gb.Delete = append(gb.Delete, p.ID)
				groups = append(groups, p)
			case p.Action == storage.ChangeDelete:
				ub.Delete = append(ub.Delete, p.ID)
				users = append(users, p)
			default:
				ub.Deactivate = append(ub.Deactivate, p.ID)
				users = append(users, p)
			}
		}
		afterUsers := st.run.Counts
		afterUsers.Deactivated += len(ub.Deactivate)
		afterUsers.Deleted += len(ub.Delete)
		if len(users) > 0 && st.job.Linked {
			if err := st.removeContributions(ctx, users); err != nil {
				return err
			}
			afterUsers = st.run.Counts
			users = nil
		} else if len(users) > 0 && !st.job.DryRun {
			ub.Progress = st.progressAt(afterUsers)
			if err := st.e.store.ApplyUsers(ctx, st.owner, ub); err != nil {
				return fmt.Errorf("remove users: %w", err)
			}
		}
		st.removed(users, afterUsers)
		afterGroups := afterUsers
		afterGroups.Deleted += len(gb.Delete)
		if len(groups) > 0 && !st.job.DryRun {
			gb.Progress = st.progressAt(afterGroups)
			if err := st.e.store.ApplyGroups(ctx, st.owner, gb); err != nil {
				return fmt.Errorf("remove groups: %w", err)
			}
		}
		st.removed(groups, afterGroups)
		if err := st.progress(ctx); err != nil {
			return err
		}
	}
	return nil
}

// removed logs committed removals and takes the counts stored with them.
func (st *runState) removed(list []storage.PendingDeletion, after storage.RunCounts) {
	for _, p := range list {
		st.change(storage.Change{Action: p.Action, Kind: p.Kind, ResourceID: p.ID, Key: p.Key, Name: p.Name})
	}
	st.committedAt(after)
}
