package sqlstore

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.AuditStore = (*Store)(nil)

// defaultAuditLimit is the page ListAudit returns when asked for none.
const defaultAuditLimit = 100

// AddAudit appends an entry; the id is the next row number.
func (s *Store) AddAudit(ctx context.Context, e storage.AuditEntry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	err := s.write(ctx, func(tx *txn) error {
		return tx.exec("INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
			millis(e.At), e.Actor, e.Action, e.Target, e.Detail)
	})
	return wrapOp("add audit", err)
}

// ListAudit returns entries newest first, below before when it is set.
// A limit of zero or less means defaultAuditLimit.
func (s *Store) ListAudit(ctx context.Context, limit int, before int64) ([]storage.AuditEntry, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	q, args := "SELECT id, at, actor, action, target, detail FROM audit", []any{}
	if before > 0 {
		q, args = q+" WHERE id < ?", append(args, before)
	}
	rows, err := db.Raw(q+" ORDER BY id DESC LIMIT ?", append(args, limit)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", translate(err))
	}
	out := []storage.AuditEntry{}
	err = scanRows(rows, func() error {
		var e storage.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return translate(err)
		}
		e.At = fromMillis(at)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list audit: %w", err)
	}
	return out, nil
}
