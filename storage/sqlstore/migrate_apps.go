package sqlstore

// appsVersion is the migration that adds applications; a store held at an
// older schema (tests of old databases) has no apps to maintain.
const appsVersion = 8

// appsSchema is migration 8: applications and their maintained view
// membership. An app's definition beyond its name is one JSON document
// (def): the store reads it whole and compiles it once per version, so it
// needs no columns of its own.
//
// app_users holds one row per user who is or was in an app's view:
// left_at is NULL while the user is in view; changed is the time of the
// last join or leave; bumps counts joins and leaves, and the read side adds
// it to the user's version so the ETag moves when the app's view of the
// user does. Its foreign keys are checked at commit, as the other child
// tables' are (see migrate_fk.go); ON DELETE CASCADE still acts at once, so
// a deleted user or app takes its rows along. In SQLite the table is
// clustered on its key (WITHOUT ROWID): one B-tree fewer to write for each
// of the hundreds of thousands of rows a sync adds to large views.
// Migration 11 (migrate_appusers.go) keys it by user and keeps one index.
var appsSchema = []string{
	`CREATE TABLE apps (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		name_key TEXT NOT NULL UNIQUE,
		version INTEGER NOT NULL,
		created INTEGER NOT NULL,
		updated INTEGER NOT NULL,
		def TEXT NOT NULL
	)`,
	`CREATE TABLE app_users (
		app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		joined INTEGER NOT NULL,
		left_at INTEGER,
		changed INTEGER NOT NULL,
		bumps INTEGER NOT NULL,
		PRIMARY KEY (app_id, user_id)
	) WITHOUT ROWID`,
	`CREATE INDEX app_users_user ON app_users(user_id)`,
	`CREATE INDEX app_users_changed ON app_users(app_id, changed)`,
	// The nesting of groups alone, for the recursive closures of scope
	// groups: without it each step reads every member row of a group to
	// find the few that are groups.
	`CREATE INDEX group_members_nested ON group_members(group_id, member_id) WHERE member_type = 'group'`,
	`CREATE INDEX group_members_nested_up ON group_members(member_id, group_id) WHERE member_type = 'group'`,
	// NULL: a token that reads the whole directory.
	`ALTER TABLE tokens ADD COLUMN app_id TEXT REFERENCES apps(id) ON DELETE CASCADE`,
	`CREATE INDEX tokens_app ON tokens(app_id)`,
}
