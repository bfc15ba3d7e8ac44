package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.SyncStore = (*Store)(nil)

// eachPage is how many rows EachSyncedUser and EachSyncedGroup read per
// query. Reading in keyset pages instead of one long query keeps no read
// transaction open while the callback runs, so the callback may write and
// the WAL can be checkpointed during a long enumeration.
const eachPage = 1000

// keyed repeats the condition of the partial indexes on (owner,
// source_key): PostgreSQL's generic plan for a prepared statement cannot
// tell that a parameter is not NULL, so without it a 1,000-key lookup
// scanned every row of the owner (1.6 s a batch at 70,000 users).
const keyed = "source_key IS NOT NULL AND "

// syncedUserSelect is what SyncedUser is read from: indexed columns only,
// never the document (reading documents made a 100,000-user resync read
// every row's overflow pages).
const syncedUserSelect = `SELECT id, owner, source_key, COALESCE(sync_hash, ''),
	user_name, active, deactivated_at FROM users`

func scanSyncedUser(rows *sql.Rows) (storage.SyncedUser, error) {
	var u storage.SyncedUser
	var deactivated sql.NullInt64
	if err := rows.Scan(&u.ID, &u.Owner, &u.Key, &u.Hash, &u.UserName, &u.Active, &deactivated); err != nil {
		return u, translate(err)
	}
	u.DeactivatedAt = fromNullMillis(deactivated)
	return u, nil
}

// SyncedUsers looks owner's users up by source key, keyChunk keys a query.
func (s *Store) SyncedUsers(ctx context.Context, owner string, keys []string) (map[string]storage.SyncedUser, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]storage.SyncedUser, len(keys))
	err = chunks(keys, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(syncedUserSelect+" WHERE owner = ? AND "+keyed+"source_key IN ?", owner, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			u, err := scanSyncedUser(rows)
			out[u.Key] = u
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: synced users: %w", err)
	}
	return out, nil
}

// EachSyncedUser walks owner's users in source-key order, a page at a time.
func (s *Store) EachSyncedUser(ctx context.Context, owner string, fn func(storage.SyncedUser) error) error {
	after := "" // stored keys are never empty
	for {
		db, err := s.reader(ctx) // checks ctx between pages
		if err != nil {
			return err
		}
		rows, err := db.Raw(syncedUserSelect+" WHERE owner = ? AND "+keyed+"source_key > ? ORDER BY source_key LIMIT ?",
			owner, after, eachPage).Rows()
		if err != nil {
			return fmt.Errorf("sqlstore: each synced user: %w", translate(err))
		}
		page := make([]storage.SyncedUser, 0, eachPage)
		err = scanRows(rows, func() error {
			u, err := scanSyncedUser(rows)
			page = append(page, u)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: each synced user: %w", err)
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// CountOwned counts owner's users and groups, synced or not.
func (s *Store) CountOwned(ctx context.Context, owner string) (users, groups int, err error) {
	row := s.db.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM users WHERE owner = ?), (SELECT COUNT(*) FROM groups WHERE owner = ?)`,
		owner, owner).Row()
	if err := row.Scan(&users, &groups); err != nil {
		return 0, 0, fmt.Errorf("sqlstore: count owned: %w", translate(err))
	}
	return users, groups, nil
}

// ClaimsByUserName finds the holders of userNames, case-insensitively.
func (s *Store) ClaimsByUserName(ctx context.Context, userNames []string) (map[string]storage.UserClaim, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	lower := make([]string, len(userNames))
	for i, n := range userNames {
		lower[i] = foldKey(n)
	}
	out := make(map[string]storage.UserClaim, len(lower))
	err = chunks(lower, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(`SELECT user_name, id, owner, COALESCE(source_key, '') FROM users WHERE user_name IN ?`, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var name string
			var c storage.UserClaim
			if err := rows.Scan(&name, &c.ID, &c.Owner, &c.Key); err != nil {
				return translate(err)
			}
			out[name] = c
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: claims by userName: %w", err)
	}
	return out, nil
}

const syncedGroupSelect = `SELECT id, source_key, COALESCE(sync_hash, ''), display FROM groups`

func scanSyncedGroup(rows *sql.Rows) (storage.SyncedGroup, error) {
	var g storage.SyncedGroup
	err := rows.Scan(&g.ID, &g.Key, &g.Hash, &g.DisplayName)
	return g, translate(err)
}

// SyncedGroups looks owner's groups up by source key.
func (s *Store) SyncedGroups(ctx context.Context, owner string, keys []string) (map[string]storage.SyncedGroup, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]storage.SyncedGroup, len(keys))
	err = chunks(keys, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(syncedGroupSelect+" WHERE owner = ? AND "+keyed+"source_key IN ?", owner, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			g, err := scanSyncedGroup(rows)
			out[g.Key] = g
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: synced groups: %w", err)
	}
	return out, nil
}

// EachSyncedGroup walks owner's groups in source-key order.
func (s *Store) EachSyncedGroup(ctx context.Context, owner string, fn func(storage.SyncedGroup) error) error {
	after := ""
	for {
		db, err := s.reader(ctx) // checks ctx between pages
		if err != nil {
			return err
		}
		rows, err := db.Raw(syncedGroupSelect+" WHERE owner = ? AND "+keyed+"source_key > ? ORDER BY source_key LIMIT ?",
			owner, after, eachPage).Rows()
		if err != nil {
			return fmt.Errorf("sqlstore: each synced group: %w", translate(err))
		}
		page := make([]storage.SyncedGroup, 0, eachPage)
		err = scanRows(rows, func() error {
			g, err := scanSyncedGroup(rows)
			page = append(page, g)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: each synced group: %w", err)
		}
		for _, g := range page {
			if err := fn(g); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// MemberIDs returns a group's direct member ids in id order. ErrNotFound
// if the group does not exist.
func (s *Store) MemberIDs(ctx context.Context, groupID string) ([]string, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.Raw(`SELECT m.member_id FROM groups g
		LEFT JOIN group_members m ON m.group_id = g.id WHERE g.id = ? ORDER BY m.member_id`, groupID).Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: member ids: %w", translate(err))
	}
	found := false
	ids := []string{}
	err = scanRows(rows, func() error {
		found = true
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return translate(err)
		}
		if id.Valid { // a group without members yields one row of NULL
			ids = append(ids, id.String)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: member ids: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("sqlstore: group %s: %w", groupID, storage.ErrNotFound)
	}
	return ids, nil
}
