package sqlstore

// deferredFKSchema is migration 4: the foreign keys of the two child
// tables are checked at COMMIT instead of after every statement. SQLite
// keeps a statement journal (see dialect.bulkInsert) for any multi-row
// statement that an immediate foreign key could abort, so every bulk
// insert of value or membership rows copied the pages it touched to a
// temporary file. No write relies on the immediate check: a transaction
// whose rows name a missing user or group still fails as a whole, at
// COMMIT, and ON DELETE CASCADE acts as before.
//
// SQLite cannot alter a constraint, so each table is rebuilt under its own
// name, rows and indexes; PostgreSQL alters the constraints in place.
var deferredFKSchema = []string{
	`CREATE TABLE user_values_new (
		user_seq INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		attr TEXT NOT NULL,
		value TEXT,
		type TEXT,
		is_primary INTEGER NOT NULL DEFAULT 0,
		display TEXT
	)`,
	`INSERT INTO user_values_new (user_seq, attr, value, type, is_primary, display)
		SELECT user_seq, attr, value, type, is_primary, display FROM user_values`,
	`DROP TABLE user_values`,
	`ALTER TABLE user_values_new RENAME TO user_values`,
	`CREATE INDEX user_values_attr_value ON user_values(attr, value)`,
	`CREATE INDEX user_values_user ON user_values(user_seq)`,
	`CREATE TABLE group_members_new (
		group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		member_id TEXT NOT NULL,
		member_type TEXT NOT NULL,
		PRIMARY KEY (group_id, member_id)
	)`,
	`INSERT INTO group_members_new (group_id, member_id, member_type)
		SELECT group_id, member_id, member_type FROM group_members`,
	`DROP TABLE group_members`,
	`ALTER TABLE group_members_new RENAME TO group_members`,
	`CREATE INDEX group_members_member ON group_members(member_id)`,
}

// pgDeferredFK is migration 4 on PostgreSQL. The constraint names are the
// ones PostgreSQL gave the unnamed REFERENCES clauses of migration 1.
var pgDeferredFK = []string{
	`ALTER TABLE user_values ALTER CONSTRAINT user_values_user_seq_fkey DEFERRABLE INITIALLY DEFERRED`,
	`ALTER TABLE group_members ALTER CONSTRAINT group_members_group_id_fkey DEFERRABLE INITIALLY DEFERRED`,
}

// replaceAll is a pgReplace that gives PostgreSQL pg in place of all of
// sqlite's statements.
func replaceAll(sqlite, pg []string) map[int][]string {
	m := map[int][]string{0: pg}
	for i := 1; i < len(sqlite); i++ {
		m[i] = nil
	}
	return m
}
