package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"

	"gorm.io/gorm"
)

// appViewsVersion is the migration that gives views their state.
const appViewsVersion = 14

// appViewsSchema is migration 14: the state of an app's view (appwhole.go).
// view_joined is NULL for a view kept as a row per user; set, the view is
// whole and began then; view_changed and view_epoch are the change time
// and the bumps of its users in view without a row.
//
// departed_users holds what views still show of users deleted outright
// (appdeparted.go): a copy of the user's row with every column of users,
// taken while their leave grace runs; a later migration that adds a
// column to users adds it here too. Their app_users rows stay behind
// them, so the rows no longer go with a user (the trigger of migration
// 11, PostgreSQL's foreign key): the deletions remove what no grace
// keeps.
var appViewsSchema = []string{
	`ALTER TABLE apps ADD COLUMN view_joined INTEGER`,
	`ALTER TABLE apps ADD COLUMN view_changed INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE apps ADD COLUMN view_epoch INTEGER NOT NULL DEFAULT 0`,
	`CREATE TABLE departed_users AS SELECT * FROM users WHERE 1=0`,
	`ALTER TABLE departed_users ADD COLUMN deleted_at INTEGER`,
	`ALTER TABLE departed_users ADD COLUMN until_at INTEGER`,
	`CREATE UNIQUE INDEX departed_users_id ON departed_users(id)`,
	`CREATE INDEX departed_users_until ON departed_users(until_at)`,
	`DROP TRIGGER app_users_user_deleted`,
}

// pgAppViewsTrigger replaces the trigger's removal: PostgreSQL's rows went
// by their foreign key.
var pgAppViewsTrigger = []string{`ALTER TABLE app_users DROP CONSTRAINT app_users_user_id_fkey`}

// backfillWholeViews turns the views of existing apps that can be whole
// into whole views, as a definition change would (dematerialize), except
// that the view's times are the latest join and change of the rows that
// go: no user's lastModified moves back, and no version does.
func backfillWholeViews(tx *gorm.DB, log *slog.Logger) error {
	var rows []struct {
		ID  string
		Def string
	}
	if err := tx.Raw("SELECT id, def FROM apps").Scan(&rows).Error; err != nil {
		return fmt.Errorf("read applications: %w", err)
	}
	for _, r := range rows {
		var d appDef
		if err := json.Unmarshal([]byte(r.Def), &d); err != nil {
			return fmt.Errorf("application %s: %w", r.ID, err)
		}
		if len(d.Scope.Groups) > 0 || len(d.Scope.FilterExpr) > 0 && string(d.Scope.FilterExpr) != "null" {
			continue
		}
		var joined, changed, top sql.NullInt64
		if err := tx.Raw(`SELECT COALESCE(MAX(CASE WHEN left_at IS NULL THEN joined END), MAX(a.updated)),
			COALESCE(MAX(CASE WHEN left_at IS NULL THEN changed END), MAX(a.updated)), MAX(bumps)
			FROM apps a LEFT JOIN app_users av ON av.app_id = a.id WHERE a.id = ?`, r.ID).Row().Scan(&joined, &changed, &top); err != nil {
			return fmt.Errorf("application %s: %w", r.ID, err)
		}
		if err := tx.Exec("DELETE FROM app_users WHERE app_id = ? AND left_at IS NULL", r.ID).Error; err != nil {
			return fmt.Errorf("application %s: %w", r.ID, err)
		}
		if err := tx.Exec("UPDATE apps SET view_joined = ?, view_changed = ?, view_epoch = ? WHERE id = ?",
			joined.Int64, changed.Int64, top.Int64+1, r.ID).Error; err != nil {
			return fmt.Errorf("application %s: %w", r.ID, err)
		}
		log.Info("an application's view no longer keeps a row per user", "app", r.ID)
	}
	return nil
}
