package sqlstore

// consoleSessionsVersion is the migration that adds the web console's
// sessions; a store held at an older schema has no such table.
const consoleSessionsVersion = 10

// consoleSessionsSchema is migration 10: the console's server-side
// sessions, keyed by the SHA-256 of the cookie value. token_id has no
// foreign key: the bootstrap admin token (SCIMGATE_ADMIN_TOKEN) signs in
// too and has no row in tokens; DeleteToken ends a stored token's
// sessions itself. Times are milliseconds, as in every other table.
var consoleSessionsSchema = []string{
	`CREATE TABLE console_sessions (
		hash BLOB PRIMARY KEY,
		token_id TEXT NOT NULL,
		actor TEXT NOT NULL,
		csrf TEXT NOT NULL,
		created INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		expires INTEGER NOT NULL
	)`,
	`CREATE INDEX console_sessions_token ON console_sessions(token_id)`,
}
