package sqlstore

// pushVersion is the migration that adds outbound push; a store held at an
// older schema has no push bookkeeping to maintain.
const pushVersion = 9

// pushSchema is migration 9: outbound push. Its run history has the shape
// of the sources' (runs, run_changes, run_pending) so one implementation
// serves both (runs.go, runtables.go); every table hangs off apps and
// goes when its app does.
//
// push_state is an app's push bookkeeping beside its definition, so a run
// does not bump the app's version: the cursor and health of the last run
// and first_change, the time the view first changed since the last push
// (NULL: nothing waiting), which every write to a pushed view sets.
//
// push_objects is one row per object scimgate manages in an app's target;
// push_members the memberships as last pushed. Both are clustered on
// their key in SQLite (WITHOUT ROWID), as app_users is, and their foreign
// keys are checked at commit like the other child tables'.
var pushSchema = []string{
	`CREATE TABLE push_state (
		app_id TEXT PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		cursor BLOB,
		health TEXT NOT NULL,
		first_change INTEGER
	)`,
	`CREATE TABLE push_runs (
		seq INTEGER PRIMARY KEY,
		id TEXT NOT NULL UNIQUE,
		app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
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
	`CREATE INDEX push_runs_app_queued ON push_runs(app_id, queued)`,
	// Every write to a pushed view looks for the app's running push.
	`CREATE INDEX push_runs_app_status ON push_runs(app_id, status, started)`,
	`CREATE TABLE push_changes (
		run_id TEXT NOT NULL REFERENCES push_runs(id) ON DELETE CASCADE,
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
	`CREATE TABLE push_pending (
		run_id TEXT NOT NULL REFERENCES push_runs(id) ON DELETE CASCADE,
		pos INTEGER NOT NULL,
		kind TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		source_key TEXT NOT NULL,
		name TEXT NOT NULL,
		action TEXT NOT NULL,
		PRIMARY KEY (run_id, pos)
	)`,
	`CREATE TABLE push_objects (
		app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		kind TEXT NOT NULL,
		local_id TEXT NOT NULL,
		target_id TEXT NOT NULL,
		origin TEXT NOT NULL,
		state TEXT NOT NULL,
		hash TEXT NOT NULL,
		error TEXT NOT NULL,
		updated INTEGER NOT NULL,
		PRIMARY KEY (app_id, kind, local_id)
	) WITHOUT ROWID`,
	// PushOrphans reads only the managed objects (active, creating) of a
	// kind, skipping the deactivated ones a large target accumulates.
	`CREATE INDEX push_objects_state ON push_objects(app_id, kind, state, local_id)`,
	`CREATE TABLE push_members (
		app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
		group_id TEXT NOT NULL,
		member_id TEXT NOT NULL,
		PRIMARY KEY (app_id, group_id, member_id)
	) WITHOUT ROWID`,
}
