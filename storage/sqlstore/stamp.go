package sqlstore

import (
	"context"
	"fmt"
	"strconv"
)

// ReadStamp returns a value that changes whenever a write commits, for
// caches of rendered reads (scim.Stamper): equal stamps mean the database
// holds what it held before.
//
// SQLite has one writer, this process, so the stamp is the write
// generation, which every write transaction moves on before it returns
// (see Store.write): no query at all. PostgreSQL may be written by other
// replicas, so the stamp is the database's current snapshot
// (xmin:xmax:in-progress xids): a transaction that commits anywhere
// changes it, and two equal snapshots see the same rows. Reading it is one
// round trip that touches no table, cheaper than the page it saves.
func (s *Store) ReadStamp(ctx context.Context) (string, bool, error) {
	if s.dialect.cacheCounts {
		return strconv.FormatUint(s.gen.Load(), 10), true, nil
	}
	rows, err := s.query(ctx, "SELECT CAST(pg_current_snapshot() AS text)")
	if err != nil {
		return "", false, fmt.Errorf("sqlstore: read stamp: %w", err)
	}
	defer rows.Close()
	var snap string
	if rows.Next() {
		if err := rows.Scan(&snap); err != nil {
			return "", false, fmt.Errorf("sqlstore: read stamp: %w", translate(err))
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("sqlstore: read stamp: %w", translate(err))
	}
	return snap, snap != "", nil
}
