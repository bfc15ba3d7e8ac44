package sqlstore

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
)

type tokenRow struct {
	ID      string
	Name    string
	Role    string
	Hash    []byte
	Created int64
}

func (r tokenRow) token() storage.Token {
	return storage.Token{ID: r.ID, Name: r.Name, Role: storage.Role(r.Role), Hash: r.Hash, CreatedAt: fromMillis(r.Created)}
}

// CreateToken stores a token.
func (s *Store) CreateToken(ctx context.Context, t storage.Token) (storage.Token, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now()
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(1e6)
	err := s.write(ctx, func(tx *gorm.DB) error {
		return translate(tx.Exec("INSERT INTO tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)",
			t.ID, t.Name, string(t.Role), t.Hash, millis(t.CreatedAt)).Error)
	})
	if err != nil {
		return storage.Token{}, fmt.Errorf("sqlstore: create token %q: %w", t.Name, err)
	}
	return t, nil
}

// GetToken returns a token by id; it runs on every authenticated request,
// so it goes through a prepared statement.
func (s *Store) GetToken(ctx context.Context, id string) (storage.Token, error) {
	rows, err := s.query(ctx, "SELECT id, name, role, hash, created FROM tokens WHERE id = ?", id)
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
	if err := rows.Scan(&r.ID, &r.Name, &r.Role, &r.Hash, &r.Created); err != nil {
		return storage.Token{}, fmt.Errorf("sqlstore: get token: %w", translate(err))
	}
	return r.token(), nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]storage.Token, error) {
	var rows []tokenRow
	if err := s.db.WithContext(ctx).Raw("SELECT id, name, role, hash, created FROM tokens ORDER BY created, name").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("sqlstore: list tokens: %w", translate(err))
	}
	out := make([]storage.Token, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.token())
	}
	return out, nil
}

// DeleteToken revokes a token by name.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM tokens WHERE name = ?", name)
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
