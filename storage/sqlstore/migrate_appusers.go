package sqlstore

// appUsersByUserVersion is the migration that reshapes app_users.
const appUsersByUserVersion = 11

// appUsersByUserSchema is migration 11: app_users in two B-trees instead
// of three, and in SQLite without foreign keys. The primary key becomes
// (user_id, app_id), the order of the maintenance's reads and writes (a
// batch of users, every app) and of deleting a user's rows, so the
// separate user index goes; one index by app, (app_id, changed, left_at,
// bumps), serves the reads by app (the view's counts, the "all" groups,
// a group's meta, the changed-since read) without visiting the table: in
// SQLite an index of a WITHOUT ROWID table carries the key's user_id too.
// A first import writes a row per user and app holding them, so a B-tree
// fewer is a third fewer page writes for the hundreds of thousands of
// rows it adds.
//
// SQLite checks a deferred foreign key at every insert too (it counts
// missing parents for the COMMIT), two more index searches per row, a
// fifth of the row's cost. Every row is written from a SELECT over users
// and for an app that exists, so the check found nothing; two triggers do
// what ON DELETE CASCADE did. SQLite cannot change a table's key either:
// the rows move to a new table, which takes the old one's name.
// PostgreSQL changes the key in place and keeps its foreign keys
// (pgReplace).
var appUsersByUserSchema = []string{
	`CREATE TABLE app_users_by_user (
		app_id TEXT NOT NULL,
		user_id TEXT NOT NULL,
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
	`CREATE TRIGGER app_users_user_deleted AFTER DELETE ON users BEGIN
		DELETE FROM app_users WHERE user_id = OLD.id;
	END`,
	`CREATE TRIGGER app_users_app_deleted AFTER DELETE ON apps BEGIN
		DELETE FROM app_users WHERE app_id = OLD.id;
	END`,
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
