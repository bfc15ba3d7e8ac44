package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.LeaseStore = (*Store)(nil)

// leaseSchema is migration 3. A lease row outlives its holder on purpose:
// expires says when anyone else may take it.
var leaseSchema = []string{
	`CREATE TABLE source_leases (
		source_id TEXT PRIMARY KEY,
		holder TEXT NOT NULL,
		expires INTEGER NOT NULL
	)`,
}

// AcquireLease takes or renews the lease on key. Write transactions are
// serialised (one writer in SQLite, the advisory write lock on
// PostgreSQL), so reading the row and then writing it cannot race another
// replica doing the same.
func (s *Store) AcquireLease(ctx context.Context, key, holder string, ttl time.Duration) (bool, string, error) {
	if key == "" || holder == "" || ttl <= 0 {
		return false, "", storage.Invalid("a lease needs a key, a holder and a positive time to live")
	}
	now := s.now()
	ok, current := false, ""
	err := s.write(ctx, func(tx *txn) error {
		var row struct {
			Holder  string
			Expires int64
		}
		res := tx.orm.Raw("SELECT holder, expires FROM source_leases WHERE source_id = ?", key).Scan(&row)
		if res.Error != nil {
			return translate(res.Error)
		}
		expires := millis(now.Add(ttl))
		switch {
		case res.RowsAffected == 0:
			err := tx.orm.Exec("INSERT INTO source_leases (source_id, holder, expires) VALUES (?, ?, ?)", key, holder, expires).Error
			if err != nil {
				return translate(err)
			}
		case row.Holder == holder || row.Expires <= millis(now):
			err := tx.orm.Exec("UPDATE source_leases SET holder = ?, expires = ? WHERE source_id = ?", holder, expires, key).Error
			if err != nil {
				return translate(err)
			}
		default:
			current = row.Holder
			return nil
		}
		ok, current = true, holder
		return nil
	})
	if err != nil {
		return false, "", fmt.Errorf("sqlstore: acquire lease %s: %w", key, err)
	}
	return ok, current, nil
}

// ReleaseLease deletes holder's lease on key.
func (s *Store) ReleaseLease(ctx context.Context, key, holder string) error {
	err := s.write(ctx, func(tx *txn) error {
		return tx.exec("DELETE FROM source_leases WHERE source_id = ? AND holder = ?", key, holder)
	})
	return wrapOp("release lease "+key, err)
}
