package sqlstore

// syncSchema is migration 2: sync bookkeeping on users and groups, source
// configurations, run history and the audit log. It lives beside migrate.go
// so that the migration list stays short to read.
var syncSchema = []string{
	// source_key is the source's stable id of the record (NULL for
	// resources no sync wrote); sync_hash the hash of the mapped record
	// last written; deactivated_at is set only when a sync deactivated the
	// user, and is what grace periods count from.
	`ALTER TABLE users ADD COLUMN source_key TEXT`,
	`ALTER TABLE users ADD COLUMN sync_hash TEXT`,
	`ALTER TABLE users ADD COLUMN deactivated_at INTEGER`,
	`CREATE UNIQUE INDEX users_owner_source_key ON users(owner, source_key) WHERE source_key IS NOT NULL`,
	// Any write that makes a user active again ends its deactivation,
	// including SCIM writes that never heard of deactivated_at.
	`CREATE TRIGGER users_reactivated AFTER UPDATE OF active ON users
		WHEN NEW.active AND NEW.deactivated_at IS NOT NULL
		BEGIN UPDATE users SET deactivated_at = NULL WHERE seq = NEW.seq; END`,
	`ALTER TABLE groups ADD COLUMN source_key TEXT`,
	`ALTER TABLE groups ADD COLUMN sync_hash TEXT`,
	`CREATE UNIQUE INDEX groups_owner_source_key ON groups(owner, source_key) WHERE source_key IS NOT NULL`,
	`CREATE INDEX groups_owner ON groups(owner)`,
	`ALTER TABLE tokens ADD COLUMN last_used INTEGER`,
	// JSON columns hold the Go encoding of the matching storage types;
	// secrets is name -> base64 of the sealed bytes.
	`CREATE TABLE sources (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		name TEXT NOT NULL UNIQUE,
		kind TEXT NOT NULL,
		enabled INTEGER NOT NULL,
		schedule TEXT NOT NULL,
		settings TEXT NOT NULL,
		secrets TEXT NOT NULL,
		mapping TEXT NOT NULL,
		scope TEXT NOT NULL,
		deletion TEXT NOT NULL,
		precedence INTEGER NOT NULL,
		cursor BLOB,
		health TEXT NOT NULL,
		created INTEGER NOT NULL,
		updated INTEGER NOT NULL,
		version INTEGER NOT NULL
	)`,
	`CREATE TABLE runs (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
		status TEXT NOT NULL,
		trigger TEXT NOT NULL,
		mode TEXT NOT NULL,
		dry_run INTEGER NOT NULL,
		queued INTEGER NOT NULL,
		started INTEGER,
		finished INTEGER,
		counts TEXT NOT NULL,
		error TEXT NOT NULL,
		notes TEXT NOT NULL,
		cursor BLOB,
		decided_by TEXT NOT NULL,
		change_log_n INTEGER NOT NULL
	)`,
	`CREATE INDEX runs_source_queued ON runs(source_id, queued)`,
	`CREATE TABLE run_changes (
		run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		seq INTEGER NOT NULL,
		action TEXT NOT NULL,
		kind TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		source_key TEXT NOT NULL,
		name TEXT NOT NULL,
		detail TEXT NOT NULL,
		before TEXT,
		after TEXT,
		PRIMARY KEY (run_id, seq)
	)`,
	// pos keeps the order SetPending was given, for paging.
	`CREATE TABLE run_pending (
		run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		pos INTEGER NOT NULL,
		kind TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		source_key TEXT NOT NULL,
		name TEXT NOT NULL,
		action TEXT NOT NULL,
		PRIMARY KEY (run_id, pos)
	)`,
	`CREATE TABLE audit (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		detail TEXT NOT NULL
	)`,
}
