package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// ApplyGroups writes a sync batch of groups in one transaction, in the
// order that lets one batch rename a group and give its old name to
// another: deletions, attribute updates, new groups, then membership (so
// members may be groups created in the same batch). Member ids that do not
// exist are skipped, and a member's type is the stored one. Delete skips
// ids that are gone or not held by owner, as ApplyUsers does. An update
// naming a group that does not exist fails with ErrNotFound.
func (s *Store) ApplyGroups(ctx context.Context, owner string, b storage.GroupBatch) error {
	now := msUTC(s.now())
	err := s.write(ctx, func(tx *txn) error {
		if err := deleteSyncedGroups(tx, owner, b.Delete, now); err != nil {
			return err
		}
		changed := make(map[string]bool, len(b.Update))
		for _, w := range b.Update {
			c, err := updateSyncedGroup(tx, owner, w)
			if err != nil {
				return err
			}
			changed[w.Group.ID] = changed[w.Group.ID] || c
		}
		created := make([]string, len(b.Create))
		for i, w := range b.Create {
			id, err := insertSyncedGroup(tx, owner, w, now)
			if err != nil {
				return err
			}
			created[i] = id
		}
		for _, w := range b.Update {
			if w.Members == nil {
				continue
			}
			c, err := applyMemberChange(tx, w.Group.ID, *w.Members)
			if err != nil {
				return err
			}
			changed[w.Group.ID] = changed[w.Group.ID] || c
		}
		var bump []string
		for id, c := range changed {
			if c {
				bump = append(bump, id)
			}
		}
		if err := chunks(bump, keyChunk, func(chunk []string) error {
			return tx.exec("UPDATE groups SET version = version + 1, last_modified = ? WHERE id IN ?", millis(now), chunk)
		}); err != nil {
			return err
		}
		members := make([][]storage.Member, len(b.Create))
		for i, w := range b.Create {
			members[i] = w.Group.Members
			if w.Members != nil {
				members[i] = append(members[i][:len(members[i]):len(members[i])], w.Members.Add...)
			}
		}
		if err := addNewGroupsMembers(tx, created, members); err != nil {
			return err
		}
		if err := tx.touchGroups(append(bump, created...)...); err != nil {
			return err
		}
		return saveProgress(tx, b.Progress)
	})
	return wrapOp("apply groups", err)
}

// addNewGroupsMembers writes the members of groups created in this batch,
// as addKnownMembers would one group at a time, but with one existence
// check for the whole batch and the prepared multi-row INSERT: a first
// sync of 5,000 groups otherwise ran 10,000 statements of varying length,
// each prepared anew.
func addNewGroupsMembers(tx *txn, groupIDs []string, members [][]storage.Member) error {
	var ids []string
	inBatch := map[string]bool{}
	for _, ms := range members {
		for _, m := range ms {
			if !inBatch[m.Value] {
				inBatch[m.Value] = true
				ids = append(ids, m.Value)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	types, err := resolveMembers(tx, ids)
	if err != nil {
		return err
	}
	var args []any
	for i, ms := range members {
		seen := make(map[string]bool, len(ms))
		for _, m := range ms {
			typ, ok := types[m.Value]
			if !ok || seen[m.Value] || (typ == "group" && m.Value == groupIDs[i]) {
				continue
			}
			seen[m.Value] = true
			args = append(args, groupIDs[i], m.Value, typ)
		}
	}
	if err := bulkInsert(tx, membersBulk, args, nil); err != nil {
		return err
	}
	// Only the members of groups in some app's scope can have moved.
	scoped, err := tx.scopedGroups(groupIDs)
	if err != nil || len(scoped) == 0 {
		return err
	}
	in := make(map[string]bool, len(scoped))
	for _, id := range scoped {
		in[id] = true
	}
	var moved []string
	for i, ms := range members {
		if in[groupIDs[i]] {
			for _, m := range ms {
				moved = append(moved, m.Value)
			}
		}
	}
	return tx.touchBelow(moved...)
}

// insertSyncedGroup inserts a group row (version 1) and returns its id.
func insertSyncedGroup(tx *txn, owner string, w storage.GroupWrite, now time.Time) (string, error) {
	g := w.Group
	if g.ID == "" {
		g.ID = newID()
	}
	doc, err := groupDoc(&g)
	if err != nil {
		return "", err
	}
	args := append([]any{g.ID, owner}, groupAttrValues(&g)...)
	err = tx.exec(`INSERT INTO groups (id, owner, `+groupAttrList+`, display, created, last_modified, version, doc, source_key, sync_hash)
		VALUES (?, ?, `+placeholders(len(groupAttrs))+`, ?, ?, ?, 1, ?, ?, ?)`,
		append(args, g.DisplayName, millis(now), millis(now), doc, exact(w.Key), w.Hash)...)
	return g.ID, err
}

// updateSyncedGroup stores a group's new attributes, owner, key and hash;
// it reports whether anything a reader sees changed (the hash alone is
// bookkeeping). The version is bumped by the caller. A MembersOnly write
// only checks that the group exists.
func updateSyncedGroup(tx *txn, owner string, w storage.GroupWrite) (bool, error) {
	id := w.Group.ID
	var row struct {
		Owner string
		Doc   string
	}
	res := tx.orm.Raw("SELECT owner, doc FROM groups WHERE id = ?", id).Scan(&row)
	if res.Error != nil {
		return false, translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return false, fmt.Errorf("group %s: %w", id, storage.ErrNotFound)
	}
	if w.MembersOnly {
		return false, nil
	}
	var cur storage.Group
	if err := json.Unmarshal([]byte(row.Doc), &cur); err != nil {
		return false, fmt.Errorf("decode group %s: %w", id, err)
	}
	next := cur
	copyGroupAttrs(&next, &w.Group)
	changed := !sameGroupAttrs(&next, &cur) || row.Owner != owner
	if renamed(&cur, &next) { // it can move into or out of a scope
		if err := tx.touchBelow(id); err != nil {
			return false, err
		}
		// Under its old name; ApplyGroups touches it again under the new.
		if err := tx.touchGroups(id); err != nil {
			return false, err
		}
	}
	doc, err := groupDoc(&next)
	if err != nil {
		return false, err
	}
	args := append([]any{owner}, groupAttrValues(&next)...)
	err = tx.exec(`UPDATE groups SET owner = ?, `+groupAttrSet+`, display = ?, doc = ?, source_key = ?, sync_hash = ?
		WHERE id = ?`, append(args, next.DisplayName, doc, exact(w.Key), w.Hash, id)...)
	return changed, err
}

// applyMemberChange applies edits to one group's membership rows and
// reports whether any row changed.
func applyMemberChange(tx *txn, groupID string, c storage.MemberChange) (bool, error) {
	changed := false
	if c.RemoveAll {
		if err := tx.touchMembers(groupID); err != nil {
			return false, err
		}
		res := tx.orm.Exec("DELETE FROM group_members WHERE group_id = ?", groupID)
		if res.Error != nil {
			return false, translate(res.Error)
		}
		changed = res.RowsAffected > 0
	}
	err := chunks(c.Remove, keyChunk, func(chunk []string) error {
		if err := tx.touchMembers(groupID, chunk...); err != nil {
			return err
		}
		res := tx.orm.Exec("DELETE FROM group_members WHERE group_id = ? AND member_id IN ?", groupID, chunk)
		changed = changed || res.RowsAffected > 0
		return translate(res.Error)
	})
	if err != nil {
		return false, err
	}
	added, err := addKnownMembers(tx, groupID, c.Add)
	return changed || added, err
}

// addKnownMembers inserts the membership rows of members that exist and
// are not members yet, and reports whether it inserted any. Unlike
// addMembers (the SCIM path), unknown ids are skipped: a source may name
// members outside its scope or not synced yet.
func addKnownMembers(tx *txn, groupID string, members []storage.Member) (bool, error) {
	if len(members) == 0 {
		return false, nil
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.Value
	}
	types, err := resolveMembers(tx, ids)
	if err != nil {
		return false, err
	}
	type newMember struct{ id, typ string }
	rows := make([]newMember, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		typ, ok := types[id]
		if !ok || seen[id] || (typ == "group" && id == groupID) {
			continue
		}
		seen[id] = true
		rows = append(rows, newMember{id, typ})
	}
	added := false
	err = chunks(rows, insertBatch, func(chunk []newMember) error {
		values := make([]string, len(chunk))
		args := make([]any, 0, 3*len(chunk))
		for i, r := range chunk {
			values[i] = "(?, ?, ?)"
			args = append(args, groupID, r.id, r.typ)
		}
		res := tx.orm.Exec("INSERT INTO group_members (group_id, member_id, member_type) VALUES "+
			strings.Join(values, ", ")+" ON CONFLICT DO NOTHING", args...)
		added = added || res.RowsAffected > 0
		if res.Error != nil {
			return translate(res.Error)
		}
		ids := make([]string, len(chunk))
		for i, r := range chunk {
			ids[i] = r.id
		}
		return tx.touchMembers(groupID, ids...)
	})
	return added, err
}

// deleteSyncedGroups removes owner's groups as DeleteGroup does: their
// member rows, their membership in other groups, and a new version for
// the groups that held them.
func deleteSyncedGroups(tx *txn, owner string, ids []string, now time.Time) error {
	return chunks(ids, keyChunk, func(chunk []string) error {
		var owned []string
		if err := tx.orm.Raw("SELECT id FROM groups WHERE id IN ? AND owner = ?", chunk, owner).Scan(&owned).Error; err != nil {
			return translate(err)
		}
		if len(owned) == 0 {
			return nil
		}
		scoped, err := tx.scopedGroups(owned) // before the rows go
		if err != nil {
			return err
		}
		if err := tx.touchBelow(scoped...); err != nil {
			return err
		}
		if err := tx.touchGroups(owned...); err != nil {
			return err
		}
		if err := removeMemberships(tx, owned, now); err != nil {
			return err
		}
		return tx.exec("DELETE FROM groups WHERE id IN ?", owned)
	})
}
