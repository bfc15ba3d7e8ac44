package sqlstore

import (
	"fmt"
	"log/slog"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
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

// foldedColumn is a case-insensitive column that may hold one value in
// many rows (no unique index).
type foldedColumn struct{ table, column string }

// foldedValueColumns lists, from the attribute tables, every
// case-insensitive string column other than the unique keys of migration
// 5: a resource's own columns (displayName, title, department, name
// parts, ...) and the sub-attributes of its child tables (an email's
// value, type and display).
func foldedValueColumns() []foldedColumn {
	seen := map[foldedColumn]bool{}
	for _, c := range foldedUniqueColumns {
		seen[foldedColumn{c.table, c.column}] = true
	}
	var out []foldedColumn
	add := func(c foldedColumn) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	addSpec := func(table string, typ storage.AttrType, caseExact bool, column string, values *storage.ChildTable) {
		if typ == storage.TypeString && !caseExact && column != "" {
			add(foldedColumn{table, column})
		}
		if values != nil {
			for _, sub := range values.Subs {
				if sub.Type == storage.TypeString && !sub.CaseExact && sub.Column != "" {
					add(foldedColumn{values.Name, sub.Column})
				}
			}
		}
	}
	for _, a := range storage.UserAttrs() {
		addSpec("users", a.Type, a.CaseExact, a.Column, a.Values)
	}
	for _, a := range storage.GroupAttrs() {
		addSpec("groups", a.Type, a.CaseExact, a.Column, a.Values)
	}
	return out
}

// backfillFoldValues is migration 7: migration 5 brought the unique keys
// and email values to FoldKey's form, but left the other case-insensitive
// columns as older releases folded them (lower case without NFC), so a
// filter on a title or department written in the other Unicode form
// missed. Each distinct value whose folded form differs is rewritten
// wherever it appears; values already folded (nearly all) cost one read.
func backfillFoldValues(tx *gorm.DB, _ *slog.Logger) error {
	for _, c := range foldedValueColumns() {
		var values []string
		q := fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IS NOT NULL", c.column, c.table, c.column)
		if err := tx.Raw(q).Scan(&values).Error; err != nil {
			return fmt.Errorf("read %s.%s: %w", c.table, c.column, err)
		}
		update := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", c.table, c.column, c.column)
		for _, v := range values {
			if want := foldKey(v); want != v {
				if err := tx.Exec(update, want, v).Error; err != nil {
					return fmt.Errorf("update %s.%s: %w", c.table, c.column, err)
				}
			}
		}
	}
	return nil
}
