package sqlstore

// appUsersByUserVersion is the migration that reshapes app_users.
const appUsersByUserVersion = 11

// appUsersByUserSchema is migration 11: app_users in two B-trees instead
// of three. The primary key becomes (user_id, app_id), the order of the
// maintenance's reads and writes (a batch of users, every app) and of the
// cascade from a deleted user, so the separate user index goes; one index
// by app, (app_id, changed, left_at, bumps), serves the reads by app (the
// view's counts, the "all" groups, a group's meta, the changed-since
// read) without visiting the table: in SQLite an index of a WITHOUT ROWID
// table carries the key's user_id too. A first import writes a row per
// user and app holding them, so a B-tree fewer is a third fewer page
// writes for the hundreds of thousands of rows it adds.
//
// SQLite cannot change a table's primary key: the rows move to a new
// table, which takes the old one's name. PostgreSQL changes the key in
// place (pgReplace).
var appUsersByUserSchema = []string{
	`CREATE TABLE app_users_by_user (
		app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		joined INTEGER NOT NULL,
		left_at INTEGER,
		changed INTEGER NOT NULL,
		bumps INTEGER NOT NULL,
		PRIMARY KEY (user_id, app_id)
	) WITHOUT ROWID`,
	`INSERT INTO app_users_by_user (app_id, user_id, joined, left_at, changed, bumps)
		SELECT app_id, user_id, joined, left_at, changed, bumps FROM app_users ORDER BY user_id, app_id`,
	`DROP TABLE app_users`,
	`ALTER TABLE app_users_by_user RENAME TO app_users`,
	appUsersAppIndex,
}

// appUsersAppIndex is the one index by app.
const appUsersAppIndex = `CREATE INDEX app_users_app ON app_users(app_id, changed, left_at, bumps)`

// pgAppUsersByUser is migration 11 on PostgreSQL: the key changes in
// place (app_users_pkey is the name PostgreSQL gave migration 8's key).
var pgAppUsersByUser = []string{
	`ALTER TABLE app_users DROP CONSTRAINT app_users_pkey, ADD PRIMARY KEY (user_id, app_id)`,
	`DROP INDEX app_users_user`,
	`DROP INDEX app_users_changed`,
	appUsersAppIndex,
}
