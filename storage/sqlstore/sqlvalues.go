package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// nullMillis stores an optional time: the zero time becomes NULL rather
// than a large negative number.
func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return millis(t)
}

// fromNullMillis reads what nullMillis stored.
func fromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMillis(v.Int64)
}

// msUTC is the precision times are stored at; values handed back to
// callers are normalised to it so they compare equal to what a read returns.
func msUTC(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// jsonText encodes v for a JSON text column.
func jsonText(what string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", what, err)
	}
	return string(b), nil
}

// fromJSONText decodes a JSON text column into v; an empty column leaves
// v as it is.
func fromJSONText(what, text string, v any) error {
	if text == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// orEmpty turns NULL text into "".
func orEmpty(v sql.NullString) string { return v.String }

// reader is the read pool for queries that return many rows. The query
// runs without ctx's cancellation, because go-sqlite3 starts a goroutine
// per row for a cancellable context; such queries are bounded (a page, a
// key list), and ctx is checked before each one.
func (s *Store) reader(ctx context.Context) (*gorm.DB, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.db.WithContext(context.WithoutCancel(ctx)), nil
}
