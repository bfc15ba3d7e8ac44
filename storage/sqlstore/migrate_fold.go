package sqlstore

import (
	"fmt"
	"log/slog"

	"gorm.io/gorm"
)

// foldedUniqueColumns are the case-insensitive columns with a unique
// index that migration 5 brings to foldKey's form (NFC, then lower case).
// Releases before it lower-cased without NFC, so a decomposed "é" was
// stored apart from a composed one.
var foldedUniqueColumns = []struct{ table, key, column string }{
	{"users", "seq", "user_name"},
	{"groups", "seq", "display_name"},
}

// backfillFoldKeys rewrites every stored key whose NFC form differs. Two
// rows that become one key cannot both keep it: the first keeps its old
// key and a warning names both, so that start-up still succeeds and an
// admin can rename one (the next write of it stores the new form).
func backfillFoldKeys(tx *gorm.DB, log *slog.Logger) error {
	for _, c := range foldedUniqueColumns {
		type row struct {
			RowKey int64
			Value  string
		}
		var rows []row
		q := fmt.Sprintf("SELECT %s AS row_key, %s AS value FROM %s", c.key, c.column, c.table)
		if err := tx.Raw(q).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		taken := make(map[string]bool, len(rows))
		for _, r := range rows {
			taken[r.Value] = true
		}
		update := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.table, c.column, c.key)
		for _, r := range rows {
			want := foldKey(r.Value)
			if want == r.Value {
				continue
			}
			if taken[want] {
				log.Warn("two names are one after Unicode normalisation; rename one of them",
					"table", c.table, "name", r.Value, "sameAs", want)
				continue
			}
			if err := tx.Exec(update, want, r.RowKey).Error; err != nil {
				return fmt.Errorf("update %s.%s: %w", c.table, c.column, err)
			}
			delete(taken, r.Value)
			taken[want] = true
		}
	}
	// Value rows (emails, ...) have no unique index, and no key of their
	// own: each distinct value is rewritten wherever it appears.
	var values []string
	if err := tx.Raw("SELECT DISTINCT value FROM user_values WHERE value IS NOT NULL").Scan(&values).Error; err != nil {
		return fmt.Errorf("read user_values: %w", err)
	}
	for _, v := range values {
		if want := foldKey(v); want != v {
			if err := tx.Exec("UPDATE user_values SET value = ? WHERE value = ?", want, v).Error; err != nil {
				return fmt.Errorf("update user_values: %w", err)
			}
		}
	}
	return nil
}
