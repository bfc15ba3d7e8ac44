package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// insertBatch is how many users one INSERT statement carries; 500 rows of
// 30 columns stay well under SQLite's bound-variable limit.
const insertBatch = 500

// CreateUser stores one user.
func (s *Store) CreateUser(ctx context.Context, u storage.User) (storage.User, error) {
	out, err := s.CreateUsers(ctx, []storage.User{u})
	if err != nil {
		return storage.User{}, err
	}
	return out[0], nil
}

// CreateUsers stores users in one transaction with multi-row inserts.
func (s *Store) CreateUsers(ctx context.Context, users []storage.User) ([]storage.User, error) {
	now := s.now().UTC().Truncate(1e6)
	out := make([]storage.User, len(users))
	rows := make([]userRow, len(users))
	for i, u := range users {
		if u.ID == "" {
			u.ID = newID()
		}
		u.Meta = storage.Meta{Created: now, LastModified: now, Version: 1}
		r, err := toUserRow(&u)
		if err != nil {
			return nil, err
		}
		out[i], rows[i] = u, r
	}
	err := s.write(ctx, func(tx *txn) error {
		for start := 0; start < len(rows); start += insertBatch {
			end := min(start+insertBatch, len(rows))
			if err := insertUsers(tx, rows[start:end]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: create users: %w", err)
	}
	return out, nil
}

// insertUsers inserts a batch of users and then their multi-valued rows,
// keyed by the seq numbers the database assigned.
func insertUsers(tx *txn, rows []userRow) error {
	args := make([]any, 0, len(rows)*len(userColumns))
	for _, r := range rows {
		args = append(args, r.values...)
	}
	seqs := make(map[string]int64, len(rows))
	err := bulkInsert(tx, usersBulk, args, func(res *sql.Rows) error {
		var id string
		var seq int64
		if err := res.Scan(&id, &seq); err != nil {
			return err
		}
		seqs[id] = seq
		return nil
	})
	if err != nil {
		return err
	}
	for id := range seqs {
		tx.touchCreated(id)
	}
	vals := args[:0] // the user values are no longer needed
	for _, r := range rows {
		seq := seqs[r.values[0].(string)]
		for _, v := range r.multi {
			vals = append(vals, seq, v.attr, v.value, v.typ, v.primary, v.display)
		}
	}
	return bulkInsert(tx, valuesBulk, vals, nil)
}

// GetUser returns one user.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	done, err := s.admit(ctx)
	if err != nil {
		return storage.User{}, fmt.Errorf("sqlstore: get user: %w", err)
	}
	defer done()
	rows, err := s.query(ctx, "SELECT "+userSelect+" FROM users WHERE id = ?", id)
	if err != nil {
		return storage.User{}, fmt.Errorf("sqlstore: get user: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return storage.User{}, fmt.Errorf("sqlstore: get user: %w", translate(err))
		}
		return storage.User{}, fmt.Errorf("sqlstore: user %s: %w", id, storage.ErrNotFound)
	}
	d, err := scanUserDoc(rows)
	if err != nil {
		return storage.User{}, fmt.Errorf("sqlstore: get user: %w", translate(err))
	}
	return d.Decode()
}

// UpdateUser is read-modify-write in one transaction.
func (s *Store) UpdateUser(ctx context.Context, id string, update func(*storage.User) error) (storage.User, error) {
	var out storage.User
	err := s.write(ctx, func(tx *txn) error {
		seq, cur, err := loadUser(tx, id)
		if err != nil {
			return err
		}
		next := cur
		if err := update(&next); err != nil {
			return err
		}
		next.ID, next.Owner = cur.ID, cur.Owner
		next.Meta = storage.Meta{
			Created:      cur.Meta.Created,
			LastModified: s.now().UTC().Truncate(1e6),
			Version:      cur.Meta.Version + 1,
		}
		r, err := toUserRow(&next)
		if err != nil {
			return err
		}
		if err := tx.touchBefore(id); err != nil {
			return err
		}
		set := make([]string, 0, len(userColumns))
		for _, c := range userColumns[1:] { // id never changes
			set = append(set, c+" = ?")
		}
		args := append(r.values[1:len(r.values):len(r.values)], seq)
		if err := tx.orm.Exec("UPDATE users SET "+strings.Join(set, ", ")+" WHERE seq = ?", args...).Error; err != nil {
			return translate(err)
		}
		if err := tx.orm.Exec("DELETE FROM user_values WHERE user_seq = ?", seq).Error; err != nil {
			return translate(err)
		}
		for _, v := range r.multi {
			if err := tx.orm.Exec("INSERT INTO user_values (user_seq, attr, value, type, is_primary, display) VALUES (?, ?, ?, ?, ?, ?)",
				seq, v.attr, v.value, v.typ, v.primary, v.display).Error; err != nil {
				return translate(err)
			}
		}
		tx.touchChanged(id)
		out = next
		return nil
	})
	if err != nil {
		return storage.User{}, wrapOp("update user", err)
	}
	return out, nil
}

// loadUser reads a user inside a transaction.
func loadUser(tx *txn, id string) (int64, storage.User, error) {
	var row struct {
		Seq          int64
		ID           string
		Owner        string
		Created      int64
		LastModified int64
		Version      int64
		Doc          string
	}
	res := tx.orm.Raw("SELECT seq, id, owner, created, last_modified, version, doc FROM users WHERE id = ?", id).Scan(&row)
	if res.Error != nil {
		return 0, storage.User{}, translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, storage.User{}, fmt.Errorf("user %s: %w", id, storage.ErrNotFound)
	}
	var u storage.User
	if err := json.Unmarshal([]byte(row.Doc), &u); err != nil {
		return 0, storage.User{}, fmt.Errorf("decode user %s: %w", id, err)
	}
	u.ID, u.Owner = row.ID, row.Owner
	u.Meta = storage.Meta{Created: fromMillis(row.Created), LastModified: fromMillis(row.LastModified), Version: row.Version}
	return row.Seq, u, nil
}

// DeleteUser removes a user, its values and its memberships, and bumps the
// version of the groups it left so that incremental readers see them change.
func (s *Store) DeleteUser(ctx context.Context, id string, check storage.Check) error {
	err := s.write(ctx, func(tx *txn) error {
		seq, cur, err := loadUser(tx, id)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur.Owner, cur.Meta); err != nil {
				return err
			}
		}
		if err := touchParentGroups(tx, id); err != nil {
			return err
		}
		if err := tx.touchDeletedUsers(id); err != nil {
			return err
		}
		if err := departUsers(tx, []string{id}); err != nil {
			return err
		}
		if err := tx.orm.Exec("DELETE FROM group_members WHERE member_id = ?", id).Error; err != nil {
			return translate(err)
		}
		if err := dropContributions(tx, id); err != nil {
			return err
		}
		return tx.exec("DELETE FROM users WHERE seq = ?", seq)
	})
	return wrapOp("delete user", err)
}

// touchParentGroups bumps version and lastModified of the groups that have
// memberID as a direct member.
func touchParentGroups(tx *txn, memberID string) error {
	err := tx.orm.Exec(`UPDATE groups SET version = version + 1, last_modified = ?
		WHERE id IN (SELECT group_id FROM group_members WHERE member_id = ?)`,
		millis(tx.now().UTC()), memberID).Error
	return translate(err)
}

// ListUsers reads one page and, unless the page tells it, counts the
// matches; both use the same WHERE clause.
func (s *Store) ListUsers(ctx context.Context, q storage.Query) (storage.UserPage, error) {
	var view *userView
	if q.View != "" {
		var err error
		if view, err = s.newUserView(ctx, q.View); err != nil {
			return storage.UserPage{}, fmt.Errorf("sqlstore: list users: %w", err)
		}
	}
	done, err := s.admit(ctx)
	if err != nil {
		return storage.UserPage{}, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer done()
	p, err := s.pageOf(usersTable, q)
	if err != nil {
		return storage.UserPage{}, fmt.Errorf("sqlstore: list users: %w", err)
	}
	p.columns = userSelect
	if view != nil {
		view.apply(&p)
	}
	out := storage.UserPage{Users: []storage.UserDoc{}}
	if q.Limit > 0 {
		sink := &userSink{rows: q.Limit, view: view != nil}
		if out.Bounds, err = s.read(ctx, p, sink); err != nil {
			return storage.UserPage{}, fmt.Errorf("sqlstore: list users: %w", err)
		}
		if docs := sink.docs(); docs != nil {
			out.Users = docs
		}
	}
	if out.Total, err = s.total(ctx, p, len(out.Users), out.Bounds); err != nil {
		return storage.UserPage{}, fmt.Errorf("sqlstore: list users: %w", err)
	}
	return out, nil
}

// pageOf compiles q's filter and order for table t.
func (s *Store) pageOf(t resourceTable, q storage.Query) (page, error) {
	if _, err := isKeyset(q); err != nil {
		return page{}, err
	}
	where, args, err := s.where(t, q.Filter)
	if err != nil {
		return page{}, err
	}
	order, err := newSortOrder(t, q)
	if err != nil {
		return page{}, err
	}
	q.Offset = max(q.Offset, 0)
	return page{table: t.name, where: where, args: args, order: order, q: q}, nil
}

// wrapOp prefixes an operation name unless err is nil. Errors produced by
// callers' closures pass through errors.Is/As unchanged.
func wrapOp(op string, err error) error {
	if err == nil {
		return nil
	}
	var inv *storage.InvalidError
	if errors.As(err, &inv) {
		return err
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}
