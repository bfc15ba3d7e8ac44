package sqlstore

import (
	"context"
	"fmt"
	"log/slog"

	"gorm.io/gorm"
)

// migration is one versioned schema step. Steps are append-only: never edit
// a released one, add the next.
type migration struct {
	version int
	name    string
	sqlite  []string
	// pgReplace gives PostgreSQL its own statements in place of
	// sqlite[i]; every other statement is translated by postgresDDL.
	pgReplace map[int][]string
	// backfill, when set, runs after the statements, in their transaction,
	// for rewrites SQL cannot express (Unicode normalisation).
	backfill func(tx *gorm.DB, log *slog.Logger) error
}

// Case-insensitive attributes are stored lower-cased in their filter
// columns (the document keeps the original), so equality, uniqueness and
// sorting use plain indexes on every database; no lower(col) scans.
var migrations = []migration{
	{version: 1, name: "directory and tokens", sqlite: []string{
		`CREATE TABLE users (
			seq INTEGER PRIMARY KEY,
			id TEXT NOT NULL UNIQUE,
			owner TEXT NOT NULL,
			external_id TEXT,
			user_name TEXT NOT NULL,
			display TEXT NOT NULL,
			display_name TEXT, nick_name TEXT, title TEXT, user_type TEXT,
			preferred_language TEXT, locale TEXT, timezone TEXT, profile_url TEXT,
			active INTEGER NOT NULL,
			name_formatted TEXT, name_family TEXT, name_given TEXT, name_middle TEXT,
			name_prefix TEXT, name_suffix TEXT,
			employee_number TEXT, cost_center TEXT, organization TEXT, division TEXT,
			department TEXT, manager_id TEXT,
			created INTEGER NOT NULL,
			last_modified INTEGER NOT NULL,
			version INTEGER NOT NULL,
			doc TEXT NOT NULL
		)`,
		`CREATE UNIQUE INDEX users_user_name ON users(user_name)`,
		`CREATE INDEX users_external_id ON users(external_id)`,
		`CREATE INDEX users_display_name ON users(display_name)`,
		`CREATE INDEX users_name_family ON users(name_family)`,
		`CREATE INDEX users_department ON users(department)`,
		`CREATE INDEX users_employee_number ON users(employee_number)`,
		`CREATE INDEX users_manager_id ON users(manager_id)`,
		`CREATE INDEX users_last_modified ON users(last_modified)`,
		`CREATE INDEX users_owner ON users(owner)`,
		// One child table for every multi-valued attribute (emails,
		// phoneNumbers, roles, ...), values lower-cased.
		`CREATE TABLE user_values (
			user_seq INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
			attr TEXT NOT NULL,
			value TEXT,
			type TEXT,
			is_primary INTEGER NOT NULL DEFAULT 0,
			display TEXT
		)`,
		`CREATE INDEX user_values_attr_value ON user_values(attr, value)`,
		`CREATE INDEX user_values_user ON user_values(user_seq)`,
		`CREATE TABLE groups (
			seq INTEGER PRIMARY KEY,
			id TEXT NOT NULL UNIQUE,
			owner TEXT NOT NULL,
			external_id TEXT,
			display_name TEXT NOT NULL,
			display TEXT NOT NULL,
			created INTEGER NOT NULL,
			last_modified INTEGER NOT NULL,
			version INTEGER NOT NULL,
			doc TEXT NOT NULL
		)`,
		`CREATE UNIQUE INDEX groups_display_name ON groups(display_name)`,
		`CREATE INDEX groups_external_id ON groups(external_id)`,
		`CREATE INDEX groups_last_modified ON groups(last_modified)`,
		`CREATE TABLE group_members (
			group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
			member_id TEXT NOT NULL,
			member_type TEXT NOT NULL,
			PRIMARY KEY (group_id, member_id)
		)`,
		`CREATE INDEX group_members_member ON group_members(member_id)`,
		`CREATE TABLE tokens (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL UNIQUE,
			role TEXT NOT NULL,
			hash BLOB NOT NULL,
			created INTEGER NOT NULL
		)`,
	}},
	{version: 2, name: "sources, runs, sync bookkeeping, audit", sqlite: syncSchema,
		pgReplace: map[int][]string{4: pgReactivatedTrigger}},
	{version: 3, name: "source leases", sqlite: leaseSchema},
	{version: 4, name: "child foreign keys checked at commit", sqlite: deferredFKSchema,
		pgReplace: replaceAll(deferredFKSchema, pgDeferredFK)},
	{version: 5, name: "case-insensitive keys in NFC", backfill: backfillFoldKeys},
	{version: 6, name: "source mappings split into user and group", backfill: backfillSourceMappings},
	{version: 7, name: "every case-insensitive column in NFC", backfill: backfillFoldValues},
	{version: appsVersion, name: "applications and their view membership", sqlite: appsSchema},
	{version: pushVersion, name: "outbound push", sqlite: pushSchema},
	{version: consoleSessionsVersion, name: "console sessions", sqlite: consoleSessionsSchema},
	{version: appUsersByUserVersion, name: "view membership keyed by user", sqlite: appUsersByUserSchema,
		pgReplace: replaceAll(appUsersByUserSchema, pgAppUsersByUser)},
	{version: historyVersion, name: "change logs indexed by resource", sqlite: historySchema},
	{version: linksVersion, name: "identity linking: contributions and link keys", sqlite: linksSchema},
	{version: appViewsVersion, name: "whole application views without a row per user; deleted users' departures", sqlite: appViewsSchema,
		pgReplace: map[int][]string{len(appViewsSchema) - 1: pgAppViewsTrigger}, backfill: backfillWholeViews},
}

// migrate applies every migration newer than the recorded version, in one
// transaction together with the version rows. On PostgreSQL an advisory
// lock makes replicas that start together take turns: the first migrates,
// the others then find nothing left to do.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *txn) error {
		if s.dialect.name == postgresDialect.name {
			if err := tx.orm.Exec(advisoryXactLock(advisoryMigrateClass)).Error; err != nil {
				return fmt.Errorf("sqlstore: migrate: lock: %w", err)
			}
		}
		if err := tx.orm.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`).Error; err != nil {
			return fmt.Errorf("sqlstore: migrate: %w", err)
		}
		var current int
		if err := tx.orm.Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current).Error; err != nil {
			return fmt.Errorf("sqlstore: migrate: read version: %w", err)
		}
		if current > migrations[len(migrations)-1].version {
			return fmt.Errorf("sqlstore: database schema version %d is newer than this scimgate understands (%d); upgrade scimgate",
				current, migrations[len(migrations)-1].version)
		}
		for _, m := range migrations {
			if m.version <= current {
				continue
			}
			if s.schema > 0 && m.version > s.schema {
				break
			}
			for _, stmt := range m.statementsFor(s.dialect) {
				if err := tx.orm.Exec(stmt).Error; err != nil {
					return fmt.Errorf("sqlstore: migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if m.backfill != nil {
				if err := m.backfill(tx.orm, s.log); err != nil {
					return fmt.Errorf("sqlstore: migration %d (%s): %w", m.version, m.name, err)
				}
			}
			if err := tx.orm.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
				m.version, m.name, s.now().UnixMilli()).Error; err != nil {
				return fmt.Errorf("sqlstore: migration %d: %w", m.version, err)
			}
			s.log.Info("applied database migration", "version", m.version, "name", m.name)
		}
		return nil
	})
}
