package sqlstore

// linksVersion is migration 13, identity linking (storage/link.go); a
// store held at an older schema has no link settings on its sources and
// no contributions.
const linksVersion = 13

// linksSchema is migration 13.
//
// sources gains the link settings: link is the Go encoding of Source.Link
// (key name -> template), authoritative of Source.Authoritative.
//
// contributions is one row per record of a linked source: the person it
// belongs to (user_id, a users id), the link key that joined it, its link
// keys, its mapped record (a User's JSON, the manager by person id), the
// record's hash, when it was deactivated as its person's last, and the
// people it was split from by hand (apart_from, a JSON array of ids). Its
// userName (folded), active and manager id are copied out of the record,
// so the engine's reads and the moves of references never decode
// documents. No foreign keys: a contribution outlives its source (it then
// loses every merge) and every write that moves or removes one keeps
// link_keys and users in step itself.
//
// contributions is an ordinary (rowid) table in SQLite: its rows carry
// whole records, too large for a clustered table's B-tree. link_keys is
// one small row per link key a contribution holds, with its person, for
// LinkHolders' lookup by (name, value), clustered on its key.
var linksSchema = []string{
	`ALTER TABLE sources ADD COLUMN link TEXT NOT NULL DEFAULT 'null'`,
	`ALTER TABLE sources ADD COLUMN authoritative TEXT NOT NULL DEFAULT 'null'`,
	`CREATE TABLE contributions (
		source_id TEXT NOT NULL,
		source_key TEXT NOT NULL,
		user_id TEXT NOT NULL,
		linked_by TEXT NOT NULL,
		link_keys TEXT NOT NULL,
		record TEXT NOT NULL,
		hash TEXT NOT NULL,
		user_name TEXT NOT NULL,
		active INTEGER NOT NULL,
		manager_id TEXT,
		deactivated_at INTEGER,
		apart_from TEXT NOT NULL,
		PRIMARY KEY (source_id, source_key)
	)`,
	`CREATE INDEX contributions_user ON contributions(user_id)`,
	`CREATE INDEX contributions_manager ON contributions(manager_id) WHERE manager_id IS NOT NULL`,
	`CREATE TABLE link_keys (
		source_id TEXT NOT NULL,
		source_key TEXT NOT NULL,
		name TEXT NOT NULL,
		value TEXT NOT NULL,
		user_id TEXT NOT NULL,
		PRIMARY KEY (source_id, source_key, name)
	) WITHOUT ROWID`,
	`CREATE INDEX link_keys_name_value ON link_keys(name, value)`,
}

// hasLinks says whether the store's schema has migration 13.
func (s *Store) hasLinks() bool { return s.schema == 0 || s.schema >= linksVersion }
