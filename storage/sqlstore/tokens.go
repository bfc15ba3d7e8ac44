package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

type tokenRow struct {
	ID       string
	Name     string
	Role     string
	Hash     []byte
	Created  int64
	LastUsed sql.NullInt64
	AppID    sql.NullString
}

// tokenSelect is the column list tokenRow scans.
const tokenSelect = "id, name, role, hash, created, last_used, app_id"

func (r tokenRow) token() storage.Token {
	return storage.Token{ID: r.ID, Name: r.Name, Role: storage.Role(r.Role), Hash: r.Hash,
		CreatedAt: fromMillis(r.Created), LastUsed: fromNullMillis(r.LastUsed), App: r.AppID.String}
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t storage.Token) (storage.Token, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(1e6)
	if !t.LastUsed.IsZero() {
		t.LastUsed = t.LastUsed.UTC().Truncate(1e6)
	}
	var app any // NULL: the whole directory
	if t.App != "" {
		app = t.App
	}
	err := s.write(ctx, func(tx *txn) error {
		if t.App != "" {
			// Checked here rather than left to the foreign key, whose
			// failure would reach the caller as an internal error.
			var n int64
			if err := tx.orm.Raw("SELECT COUNT(*) FROM apps WHERE id = ?", t.App).Scan(&n).Error; err != nil {
				return translate(err)
			}
			if n == 0 {
				return fmt.Errorf("application %s: %w", t.App, storage.ErrNotFound)
			}
		}
		return tx.exec("INSERT INTO tokens (id, name, role, hash, created, last_used, app_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.Name, string(t.Role), t.Hash, millis(t.CreatedAt), nullMillis(t.LastUsed), app)
	})
	if err != nil {
		return storage.Token{}, fmt.Errorf("sqlstore: create token %q: %w", t.Name, err)
	}
	return t, nil
}

// GetToken returns a token by id; it runs on every authenticated request,
// so it goes through a prepared statement.
func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	rows, err := s.query(ctx, "SELECT "+tokenSelect+" FROM tokens WHERE id = ?", id)
	if err != nil {
		return storage.Token{}, fmt.Errorf("sqlstore: get token: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return storage.Token{}, fmt.Errorf("sqlstore: get token: %w", translate(err))
		}
		return storage.Token{}, fmt.Errorf("sqlstore: token %s: %w", id, storage.ErrNotFound)
	}
	var r tokenRow
	if err := rows.Scan(&r.ID, &r.Name, &r.Role, &r.Hash, &r.Created, &r.LastUsed, &r.AppID); err != nil {
		return storage.Token{}, fmt.Errorf("sqlstore: get token: %w", translate(err))
	}
	return r.token(), nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]storage.Token, error) {
	var rows []tokenRow
	if err := s.db.WithContext(ctx).Raw("SELECT " + tokenSelect + " FROM tokens ORDER BY created, name").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list tokens: %w", translate(err))
	}
	out := make([]storage.Token, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.token())
	}
	return out, nil
}

// DeleteToken revokes a token by name and ends its console sessions in
// the same transaction.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *txn) error {
		if err := s.endTokenSessions(tx, name); err != nil {
			return err
		}
		res := tx.orm.Exec("DELETE FROM tokens WHERE name = ?", name)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("token %q: %w", name, storage.ErrNotFound)
		}
		return nil
	})
	return wrapOp("revoke token", err)
}

// TouchToken records a use of the token. Only a later time is stored, so
// uses reported out of order never move last_used backwards.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	ms := millis(at.UTC())
	err := s.write(ctx, func(tx *txn) error {
		res := tx.orm.Exec("UPDATE tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)", ms, id, ms)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected > 0 {
			return nil
		}
		var n int64
		if err := tx.orm.Raw("SELECT COUNT(*) FROM tokens WHERE id = ?", id).Scan(&n).Error; err != nil {
			return translate(err)
		}
		if n == 0 {
			return fmt.Errorf("token %s: %w", id, storage.ErrNotFound)
		}
		return nil
	})
	return wrapOp("touch token", err)
}
