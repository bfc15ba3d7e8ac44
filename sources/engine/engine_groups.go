package engine

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// mappedGroup is one incoming group on its way to the store.
type mappedGroup struct {
	rec      sources.GroupRecord
	group    storage.Group
	hash     string
	existing *storage.SyncedGroup
	members  *storage.MemberChange
}

// writeGroups maps one batch of group records and writes what changed.
func (st *runState) writeGroups(ctx context.Context, recs []sources.GroupRecord) error {
	var batch []*mappedGroup
	var keys []string
	for _, rec := range recs {
		st.run.Counts.Fetched++
		if rec.Key == "" {
			st.run.Counts.Errors++
			st.problems++
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindGroup, Detail: "a group without a stable id was skipped"})
			continue
		}
		if _, dup := st.seenGroups[rec.Key]; dup {
			st.run.Counts.Errors++
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindGroup, Key: rec.Key, Detail: "the source sent this id twice; the second record was skipped"})
			continue
		}
		st.seenGroups[rec.Key] = ""
		g, err := st.job.Mapping.MapGroup(rec)
		if err != nil {
			st.run.Counts.Errors++
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindGroup, Key: rec.Key, Detail: err.Error()})
			continue
		}
		if p := storage.GroupLimitProblem(&g); p != "" {
			// As for users: what a SCIM client may not store, a source may not.
			st.run.Counts.Conflicts++
			st.change(storage.Change{Action: storage.ChangeConflict, Kind: sources.KindGroup, Key: rec.Key, Name: g.DisplayName, Detail: p})
			continue
		}
		batch = append(batch, &mappedGroup{rec: rec, group: g, hash: hashOf(mustJSON(g))})
		keys = append(keys, rec.Key)
	}
	if len(batch) == 0 {
		return st.progress(ctx)
	}
	existing, err := st.e.store.SyncedGroups(ctx, st.owner, keys)
	if err != nil {
		return fmt.Errorf("look up groups: %w", err)
	}
	for _, m := range batch {
		if ex, ok := existing[m.rec.Key]; ok {
			m.existing = &ex
			m.group.ID = ex.ID
		} else {
			m.group.ID = newID()
		}
		st.seenGroups[m.rec.Key] = m.group.ID
	}
	var writes []*mappedGroup
	for _, m := range batch {
		if err := st.memberChange(ctx, m); err != nil {
			return err
		}
		if m.existing != nil && m.existing.Hash == m.hash && m.members == nil {
			st.run.Counts.Unchanged++
			continue
		}
		writes = append(writes, m)
	}
	if err := st.applyGroups(ctx, writes); err != nil {
		return err
	}
	return st.progress(ctx)
}

// memberChange resolves a record's member keys and works out the rows to
// add and remove; nil means membership is unchanged.
func (st *runState) memberChange(ctx context.Context, m *mappedGroup) error {
	want := m.rec.AddMembers
	if m.rec.MembersComplete {
		want = m.rec.Members
	}
	resolved, err := st.resolveKeys(ctx, append(append([]string{}, want...), m.rec.RemoveMembers...))
	if err != nil {
		return err
	}
	change := storage.MemberChange{}
	if m.rec.MembersComplete {
		current := map[string]bool{}
		if m.existing != nil {
			ids, err := st.e.store.MemberIDs(ctx, m.existing.ID)
			if err != nil {
				return fmt.Errorf("read members of %s: %w", m.existing.ID, err)
			}
			for _, id := range ids {
				current[id] = true
			}
		}
		desired := map[string]bool{}
		for _, key := range want {
			mem, ok := resolved[key]
			if !ok {
				st.pendingMembers = append(st.pendingMembers, pendingMember{groupID: m.group.ID, groupName: m.group.DisplayName, key: key})
				continue
			}
			desired[mem.Value] = true
			if !current[mem.Value] {
				change.Add = append(change.Add, mem)
			}
		}
		for id := range current {
			if !desired[id] {
				change.Remove = append(change.Remove, id)
			}
		}
	} else {
		for _, key := range m.rec.AddMembers {
			if mem, ok := resolved[key]; ok {
				change.Add = append(change.Add, mem)
			} else {
				st.pendingMembers = append(st.pendingMembers, pendingMember{groupID: m.group.ID, groupName: m.group.DisplayName, key: key})
			}
		}
		for _, key := range m.rec.RemoveMembers {
			if mem, ok := resolved[key]; ok {
				change.Remove = append(change.Remove, mem.Value)
			}
		}
	}
	if len(change.Add) > 0 || len(change.Remove) > 0 || (m.existing == nil && m.rec.MembersComplete) {
		m.members = &change
	}
	return nil
}

// resolveKeys maps member keys to our users and groups: first what this
// run has seen, then what the store holds for this source.
func (st *runState) resolveKeys(ctx context.Context, keys []string) (map[string]storage.Member, error) {
	out := make(map[string]storage.Member, len(keys))
	var unknown []string
	for _, k := range keys {
		if id := st.seenUsers[k]; id != "" {
			out[k] = storage.Member{Value: id, Type: storage.MemberUser}
		} else if id := st.seenGroups[k]; id != "" {
			out[k] = storage.Member{Value: id, Type: storage.MemberGroup}
		} else {
			unknown = append(unknown, k)
		}
	}
	for start := 0; start < len(unknown); start += 1000 {
		chunk := unknown[start:min(start+1000, len(unknown))]
		users, err := st.e.store.SyncedUsers(ctx, st.owner, chunk)
		if err != nil {
			return nil, fmt.Errorf("resolve members: %w", err)
		}
		var rest []string
		for _, k := range chunk {
			if u, ok := users[k]; ok {
				out[k] = storage.Member{Value: u.ID, Type: storage.MemberUser}
			} else {
				rest = append(rest, k)
			}
		}
		if len(rest) == 0 {
			continue
		}
		groups, err := st.e.store.SyncedGroups(ctx, st.owner, rest)
		if err != nil {
			return nil, fmt.Errorf("resolve members: %w", err)
		}
		for _, k := range rest {
			if g, ok := groups[k]; ok {
				out[k] = storage.Member{Value: g.ID, Type: storage.MemberGroup}
			}
		}
	}
	return out, nil
}

// applyGroups writes a batch, with the run's counts as they are once it
// is written; on a displayName collision only the colliding group is a
// conflict (see writeOrSplit).
func (st *runState) applyGroups(ctx context.Context, writes []*mappedGroup) error {
	if len(writes) == 0 {
		return nil
	}
	// written logs what a committed transaction wrote and takes its counts.
	written := func(ws []*mappedGroup, after storage.RunCounts) {
		for _, m := range ws {
			c := storage.Change{Kind: sources.KindGroup, ResourceID: m.group.ID, Key: m.rec.Key, Name: m.group.DisplayName, After: mustJSON(m.group)}
			c.Action = storage.ChangeUpdate
			if m.existing == nil {
				c.Action = storage.ChangeCreate
			}
			if m.members != nil {
				c.Detail = fmt.Sprintf("members: %d added, %d removed", len(m.members.Add), len(m.members.Remove))
			}
			st.change(c)
		}
		st.committedAt(after)
	}
	return writeOrSplit(st, writes, batchWrite[*mappedGroup]{
		kind:  "groups",
		count: countGroupWrites,
		apply: func(ws []*mappedGroup, after storage.RunCounts) error {
			return st.e.store.ApplyGroups(ctx, st.owner, st.groupBatch(ws, after))
		},
		conflict: func(m *mappedGroup) {
			st.run.Counts.Conflicts++
			if m.existing == nil {
				st.seenGroups[m.rec.Key] = ""
			}
			st.change(storage.Change{Action: storage.ChangeConflict, Kind: sources.KindGroup, Key: m.rec.Key, Name: m.group.DisplayName,
				Detail: "another group already has this displayName"})
		},
		written: written,
		what:    func(m *mappedGroup) string { return "group " + m.rec.Key },
	})
}

// groupBatch is the batch that writes writes and stores counts with them.
func (st *runState) groupBatch(writes []*mappedGroup, counts storage.RunCounts) storage.GroupBatch {
	b := toGroupBatch(writes)
	b.Progress = st.progressAt(counts)
	return b
}

// countGroupWrites returns c with writes counted as written.
func countGroupWrites(c storage.RunCounts, writes []*mappedGroup) storage.RunCounts {
	for _, m := range writes {
		if m.existing == nil {
			c.Created++
		} else {
			c.Updated++
		}
	}
	return c
}

func toGroupBatch(writes []*mappedGroup) storage.GroupBatch {
	var b storage.GroupBatch
	for _, m := range writes {
		w := storage.GroupWrite{Group: m.group, Key: m.rec.Key, Hash: m.hash, Members: m.members}
		if m.existing == nil {
			b.Create = append(b.Create, w)
		} else {
			b.Update = append(b.Update, w)
		}
	}
	return b
}

// finishReferences resolves the managers and members that arrived before
// what they point at; what never arrived is reported, not fatal.
func (st *runState) finishReferences(ctx context.Context) error {
	if err := st.finishManagers(ctx, true); err != nil {
		return err
	}
	return st.finishMembers(ctx)
}

// finishManagers points reports at their managers' final ids: managers
// that never arrived (or were written under another id) are corrected, so
// no user is left pointing at an id nobody has. report counts what stays
// unresolved; a failing run cleans up without reporting.
func (st *runState) finishManagers(ctx context.Context, report bool) error {
	final := st.seenUsers
	if !report {
		// A failing run may have named managers in a batch it never
		// wrote: what counts is what the store holds.
		keys := make([]string, 0, len(st.refsTo))
		for key := range st.refsTo {
			keys = append(keys, key)
		}
		final = map[string]string{}
		for start := 0; start < len(keys); start += 1000 {
			found, err := st.e.store.SyncedUsers(ctx, st.owner, keys[start:min(start+1000, len(keys))])
			if err != nil {
				return fmt.Errorf("look up managers: %w", err)
			}
			for k, u := range found {
				final[k] = u.ID
			}
		}
	}
	fixes := map[string]storage.ManagerFix{}
	for key, refs := range st.refsTo {
		final := final[key]
		for _, ref := range refs {
			userID := ref.userID
			if id, ok := st.renamed[userID]; ok {
				userID = id
			}
			if final == "" && report {
				st.run.Counts.Unresolved++
				st.change(storage.Change{Action: storage.ChangeUnresolved, Kind: sources.KindUser, ResourceID: userID,
					Detail: fmt.Sprintf("manager %q is not among this source's users", key)})
			}
			if ref.written && final == st.reserved[key] {
				continue // the manager arrived under the id it was given
			}
			if !ref.written && final == "" {
				continue // still without a manager, as stored
			}
			fixes[userID] = storage.ManagerFix{ManagerID: final, Hash: hashOf(ref.partial, []byte(final))}
		}
	}
	if len(fixes) > 0 && !st.job.DryRun {
		if err := st.e.store.SetManagers(ctx, fixes); err != nil {
			return fmt.Errorf("set managers: %w", err)
		}
	}
	return nil
}

// finishMembers adds the members that arrived after their groups.
func (st *runState) finishMembers(ctx context.Context) error {
	byGroup := map[string]*storage.MemberChange{}
	for _, pm := range st.pendingMembers {
		if st.seenGroups[pm.key] == "" && st.seenUsers[pm.key] == "" {
			st.run.Counts.Unresolved++
			st.change(storage.Change{Action: storage.ChangeUnresolved, Kind: sources.KindGroup, ResourceID: pm.groupID, Name: pm.groupName,
				Detail: fmt.Sprintf("member %q is not among this source's users or groups", pm.key)})
			continue
		}
		mem := storage.Member{Value: st.seenUsers[pm.key], Type: storage.MemberUser}
		if mem.Value == "" {
			mem = storage.Member{Value: st.seenGroups[pm.key], Type: storage.MemberGroup}
		}
		if byGroup[pm.groupID] == nil {
			byGroup[pm.groupID] = &storage.MemberChange{}
		}
		byGroup[pm.groupID].Add = append(byGroup[pm.groupID].Add, mem)
	}
	if len(byGroup) > 0 && !st.job.DryRun {
		var b storage.GroupBatch
		for id, ch := range byGroup {
			b.Update = append(b.Update, storage.GroupWrite{Group: storage.Group{ID: id}, Members: ch, MembersOnly: true})
		}
		if err := st.e.store.ApplyGroups(ctx, st.owner, b); err != nil {
			return fmt.Errorf("add late members: %w", err)
		}
	}
	return st.flushChanges(ctx)
}
