package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// keyChunk bounds the ids or keys bound into one IN list; SQLite allows
// 32766 variables, so a whole sync page of lookups is still one query.
const keyChunk = 1000

// chunks calls fn for consecutive slices of at most size elements.
func chunks[T any](items []T, size int, fn func([]T) error) error {
	for start := 0; start < len(items); start += size {
		if err := fn(items[start:min(start+size, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// syncedWrite is a UserWrite flattened before the write lock is taken, so
// JSON encoding of a batch does not hold up other writers.
type syncedWrite struct {
	row    userRow
	key    any // NULL for an empty key
	hash   string
	active bool
	id     string
}

func flattenWrites(owner string, ws []storage.UserWrite, meta storage.Meta) ([]syncedWrite, error) {
	out := make([]syncedWrite, len(ws))
	for i, w := range ws {
		u := w.User
		if u.ID == "" {
			u.ID = newID()
		}
		u.Owner, u.Meta = owner, meta
		r, err := toUserRow(&u)
		if err != nil {
			return nil, err
		}
		out[i] = syncedWrite{row: r, key: exact(w.Key), hash: w.Hash, active: u.Active, id: u.ID}
	}
	return out, nil
}

// ApplyUsers writes a sync batch in one transaction. Deletions and
// deactivations go first so that a userName they free can be taken by an
// update or create of the same batch. Deactivate and Delete skip ids that
// are gone or that owner no longer holds (another source may have taken
// the user over since the run listed it); Update fails with ErrNotFound
// for an id that does not exist.
func (s *Store) ApplyUsers(ctx context.Context, owner string, b storage.UserBatch) error {
	now := msUTC(s.now())
	creates, err := flattenWrites(owner, b.Create, storage.Meta{Created: now, LastModified: now, Version: 1})
	if err != nil {
		return wrapOp("apply users", err)
	}
	// Created and version of an update come from the stored row.
	updates, err := flattenWrites(owner, b.Update, storage.Meta{LastModified: now})
	if err != nil {
		return wrapOp("apply users", err)
	}
	err = s.write(ctx, func(tx *txn) error {
		if err := deleteSyncedUsers(tx, owner, b.Delete, now); err != nil {
			return err
		}
		if err := deactivateUsers(tx, owner, b.Deactivate, now); err != nil {
			return err
		}
		if err := updateSyncedUsers(tx, updates); err != nil {
			return err
		}
		if err := createSyncedUsers(tx, creates); err != nil {
			return err
		}
		return saveProgress(tx, b.Progress)
	})
	return wrapOp("apply users", err)
}

// createSyncedUsers inserts users and then their multi-valued rows, as
// insertUsers does for CreateUsers.
func createSyncedUsers(tx *txn, ws []syncedWrite) error {
	if len(ws) == 0 {
		return nil
	}
	args := make([]any, 0, len(ws)*syncedUsersBulk.width)
	for _, w := range ws {
		args = append(append(args, w.row.values...), w.key, w.hash)
	}
	seqs := make(map[string]int64, len(ws)) // RETURNING order is unspecified
	err := bulkInsert(tx, syncedUsersBulk, args, func(rows *sql.Rows) error {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return err
		}
		seqs[id] = seq
		return nil
	})
	if err != nil {
		return err
	}
	values := make([]seqValues, len(ws))
	for i, w := range ws {
		values[i] = seqValues{seq: seqs[w.id], values: w.row.multi}
		tx.touchCreated(w.id)
	}
	return insertUserValues(tx, values)
}

// userUpdate is the statement updateSyncedUsers runs per user: every
// column toUserRow fills except id, created and version, plus the sync
// columns.
type userUpdate struct {
	sql  string
	cols []int // indexes into userRow.values, in placeholder order
}

var syncedUserUpdate = sync.OnceValue(func() userUpdate {
	var u userUpdate
	var set []string
	for i, c := range userColumns {
		switch c {
		case "id", "created", "version":
			continue
		}
		set = append(set, c+" = ?")
		u.cols = append(u.cols, i)
	}
	u.sql = "UPDATE users SET " + strings.Join(set, ", ") + `, version = version + 1,
		source_key = ?, sync_hash = ?, deactivated_at = CASE WHEN ? THEN NULL ELSE deactivated_at END
		WHERE seq = ?`
	return u
})

// updateSyncedUsers replaces the documents, filter columns and value rows
// of existing users.
func updateSyncedUsers(tx *txn, ws []syncedWrite) error {
	if len(ws) == 0 {
		return nil
	}
	ids := make([]string, len(ws))
	seen := make(map[string]bool, len(ws))
	for i, w := range ws {
		if seen[w.id] { // its value rows would be inserted twice
			return storage.Invalid(fmt.Sprintf("user %s is updated twice in one batch", w.id))
		}
		seen[w.id] = true
		ids[i] = w.id
	}
	seqs, err := userSeqs(tx, ids, "")
	if err != nil {
		return err
	}
	if err := tx.touchBefore(ids...); err != nil {
		return err
	}
	plan := syncedUserUpdate()
	exec, done, err := tx.prepare(plan.sql)
	if err != nil {
		return err
	}
	defer done()
	args := make([]any, 0, len(plan.cols)+4)
	for _, w := range ws {
		seq, ok := seqs[w.id]
		if !ok {
			return fmt.Errorf("user %s: %w", w.id, storage.ErrNotFound)
		}
		args = args[:0]
		for _, i := range plan.cols {
			args = append(args, w.row.values[i])
		}
		args = append(args, w.key, w.hash, w.active, seq)
		if err := exec(args...); err != nil {
			return err
		}
	}
	all := make([]int64, 0, len(seqs))
	for _, seq := range seqs {
		all = append(all, seq)
	}
	if err := chunks(all, keyChunk, func(chunk []int64) error {
		return tx.exec("DELETE FROM user_values WHERE user_seq IN ?", chunk)
	}); err != nil {
		return err
	}
	rows := make([]seqValues, len(ws))
	for i, w := range ws {
		rows[i] = seqValues{seq: seqs[w.id], values: w.row.multi}
		tx.touchChanged(w.id)
	}
	return insertUserValues(tx, rows)
}

// seqValues are the multi-valued rows of the user with row number seq.
type seqValues struct {
	seq    int64
	values []valueRow
}

// insertUserValues inserts value rows through the bulk statements
// CreateUsers uses.
func insertUserValues(tx *txn, rows []seqValues) error {
	var args []any
	for _, r := range rows {
		for _, v := range r.values {
			args = append(args, r.seq, v.attr, v.value, v.typ, v.primary, v.display)
		}
	}
	return bulkInsert(tx, valuesBulk, args, nil)
}

// userSeqs maps the given ids to row numbers; ids that do not exist (or,
// when owner is set, that owner does not hold) are absent.
func userSeqs(tx *txn, ids []string, owner string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	err := chunks(ids, keyChunk, func(chunk []string) error {
		q, args := "SELECT seq, id FROM users WHERE id IN ?", []any{chunk}
		if owner != "" {
			q, args = q+" AND owner = ?", append(args, owner)
		}
		rows, err := tx.orm.Raw(q, args...).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				return translate(err)
			}
			out[id] = seq
			return nil
		})
	})
	return out, err
}

// deactivateUsers sets active=false in the documents and columns of
// owner's users. deactivated_at keeps an earlier deactivation, so a grace
// period counts from when the user first went.
func deactivateUsers(tx *txn, owner string, ids []string, now time.Time) error {
	return chunks(ids, keyChunk, func(chunk []string) error {
		var rows []struct {
			Seq int64
			ID  string
			Doc string
		}
		if err := tx.orm.Raw("SELECT seq, id, doc FROM users WHERE id IN ? AND owner = ?", chunk, owner).Scan(&rows).Error; err != nil {
			return translate(err)
		}
		if err := tx.touchBefore(chunk...); err != nil {
			return err
		}
		exec, done, err := tx.prepare(`UPDATE users SET active = ?, doc = ?,
			deactivated_at = COALESCE(deactivated_at, ?), version = version + 1, last_modified = ? WHERE seq = ?`)
		if err != nil {
			return err
		}
		defer done()
		for _, r := range rows {
			var u storage.User
			if err := json.Unmarshal([]byte(r.Doc), &u); err != nil {
				return fmt.Errorf("decode user %s: %w", r.ID, err)
			}
			u.Active = false
			doc, err := json.Marshal(&u)
			if err != nil {
				return fmt.Errorf("encode user %s: %w", r.ID, err)
			}
			if err := exec(false, string(doc), millis(now), millis(now), r.Seq); err != nil {
				return err
			}
			tx.touchChanged(r.ID)
		}
		return nil
	})
}

// deleteSyncedUsers removes owner's users as DeleteUser does: memberships
// go, and the groups they left get a new version.
func deleteSyncedUsers(tx *txn, owner string, ids []string, now time.Time) error {
	return chunks(ids, keyChunk, func(chunk []string) error {
		seqs, err := userSeqs(tx, chunk, owner)
		if err != nil || len(seqs) == 0 {
			return err
		}
		owned := make([]string, 0, len(seqs))
		rowNums := make([]int64, 0, len(seqs))
		for id, seq := range seqs {
			owned = append(owned, id)
			rowNums = append(rowNums, seq)
		}
		if err := tx.touchDeletedUsers(owned...); err != nil {
			return err
		}
		if err := departUsers(tx, owned); err != nil {
			return err
		}
		if err := removeMemberships(tx, owned, now); err != nil {
			return err
		}
		return tx.exec("DELETE FROM users WHERE seq IN ?", rowNums)
	})
}

// removeMemberships deletes the membership rows of the given members and
// bumps the groups that held them.
func removeMemberships(tx *txn, memberIDs []string, now time.Time) error {
	if err := tx.orm.Exec(`UPDATE groups SET version = version + 1, last_modified = ?
		WHERE id IN (SELECT group_id FROM group_members WHERE member_id IN ?)`, millis(now), memberIDs).Error; err != nil {
		return translate(err)
	}
	return tx.exec("DELETE FROM group_members WHERE member_id IN ?", memberIDs)
}

// SetManagers points users at their managers (an empty manager id removes
// the manager) and records their new hashes. Only a changed manager bumps
// the version: the hash is bookkeeping no reader sees.
func (s *Store) SetManagers(ctx context.Context, fixes map[string]storage.ManagerFix) error {
	if len(fixes) == 0 {
		return nil
	}
	ids := make([]string, 0, len(fixes))
	for id := range fixes {
		ids = append(ids, id)
	}
	now := msUTC(s.now())
	err := s.write(ctx, func(tx *txn) error {
		return chunks(ids, keyChunk, func(chunk []string) error {
			var rows []struct {
				Seq int64
				ID  string
				Doc string
			}
			if err := tx.orm.Raw("SELECT seq, id, doc FROM users WHERE id IN ?", chunk).Scan(&rows).Error; err != nil {
				return translate(err)
			}
			for _, r := range rows {
				if err := setManager(tx, r.Seq, r.ID, r.Doc, fixes[r.ID], now); err != nil {
					return err
				}
			}
			return nil
		})
	})
	return wrapOp("set managers", err)
}

func setManager(tx *txn, seq int64, id, doc string, fix storage.ManagerFix, now time.Time) error {
	var u storage.User
	if err := json.Unmarshal([]byte(doc), &u); err != nil {
		return fmt.Errorf("decode user %s: %w", id, err)
	}
	current := ""
	if u.Enterprise != nil && u.Enterprise.Manager != nil {
		current = u.Enterprise.Manager.Value
	}
	if current == fix.ManagerID {
		return tx.exec("UPDATE users SET sync_hash = ? WHERE seq = ?", fix.Hash, seq)
	}
	switch {
	case fix.ManagerID != "":
		if u.Enterprise == nil {
			u.Enterprise = &storage.EnterpriseExt{}
		}
		u.Enterprise.Manager = &storage.ManagerRef{Value: fix.ManagerID}
	case u.Enterprise != nil:
		u.Enterprise.Manager = nil
		if *u.Enterprise == (storage.EnterpriseExt{}) {
			u.Enterprise = nil // no empty extension object in the document
		}
	}
	next, err := json.Marshal(&u)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", id, err)
	}
	tx.touchChanged(id)
	return tx.exec(`UPDATE users SET doc = ?, manager_id = ?, sync_hash = ?, version = version + 1, last_modified = ?
		WHERE seq = ?`, string(next), exact(fix.ManagerID), fix.Hash, millis(now), seq)
}

// scanRows calls fn for each row and closes rows.
func scanRows(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
