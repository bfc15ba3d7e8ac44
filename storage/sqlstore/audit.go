package sqlstore

import (
	"context"
	"fmt"
	"strings"

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

// ListAudit returns the entries q selects, newest first, filtered in SQL
// and paged by id. A limit of zero or less means defaultAuditLimit.
func (s *Store) ListAudit(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEntry, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	var where []string
	var args []any
	cond := func(ok bool, clause string, arg any) {
		if ok {
			where, args = append(where, clause), append(args, arg)
		}
	}
	cond(q.Before > 0, "id < ?", q.Before)
	cond(q.Actor != "", "actor = ?", q.Actor)
	cond(q.Target != "", "target = ?", q.Target)
	cond(!q.Since.IsZero(), "at >= ?", millis(q.Since))
	cond(!q.Until.IsZero(), "at < ?", millis(q.Until))
	query := "SELECT id, at, actor, action, target, detail FROM audit"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := db.Raw(query+" ORDER BY id DESC LIMIT ?", append(args, limit)...).Rows()
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
