package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// runTables is a table set of run history: the runs, their change log and
// pending deletions, whose column names them (owner) and what FinishRun
// saves beside the run.
type runTables struct {
	runs, changes, pending string
	owner                  string // the runs' column naming the source or app
	ownerTable             string // the table owner refers to
	what                   string // "source" or "application", for errors
	saveState              func(tx *txn, r storage.Run, saveCursor bool, health func(*storage.SourceHealth)) error
}

// sourceRuns are the sources' sync runs; their cursor and health are
// columns of sources.
var sourceRuns = runTables{
	runs: "runs", changes: "run_changes", pending: "run_pending",
	owner: "source_id", ownerTable: "sources", what: "source",
	saveState: func(tx *txn, r storage.Run, saveCursor bool, health func(*storage.SourceHealth)) error {
		return setSourceState(tx, r.SourceID, r.Cursor, saveCursor, health)
	},
}

// pushRuns are the apps' push runs; their cursor and health live in
// push_state.
var pushRuns = runTables{
	runs: "push_runs", changes: "push_changes", pending: "push_pending",
	owner: "app_id", ownerTable: "apps", what: "application",
	saveState: setPushState,
}

// The sources' run history is the Store's own RunStore.

func (s *Store) sourceRunStore() runStore { return runStore{s: s, t: &sourceRuns} }

// PushRuns is the run history of apps' pushes; Run.SourceID is the app's id.
func (s *Store) PushRuns() storage.RunStore { return runStore{s: s, t: &pushRuns} }

func (s *Store) CreateRun(ctx context.Context, r storage.Run) (storage.Run, error) {
	return s.sourceRunStore().CreateRun(ctx, r)
}

func (s *Store) GetRun(ctx context.Context, sourceID, runID string) (storage.Run, error) {
	return s.sourceRunStore().GetRun(ctx, sourceID, runID)
}

func (s *Store) ListRuns(ctx context.Context, sourceID string, limit int) ([]storage.Run, error) {
	return s.sourceRunStore().ListRuns(ctx, sourceID, limit)
}

func (s *Store) UpdateRun(ctx context.Context, runID string, update func(*storage.Run) error) (storage.Run, error) {
	return s.sourceRunStore().UpdateRun(ctx, runID, update)
}

func (s *Store) AddChanges(ctx context.Context, runID string, changes []storage.Change) error {
	return s.sourceRunStore().AddChanges(ctx, runID, changes)
}

func (s *Store) ListChanges(ctx context.Context, runID string, offset, limit int) ([]storage.Change, int, error) {
	return s.sourceRunStore().ListChanges(ctx, runID, offset, limit)
}

func (s *Store) SetPending(ctx context.Context, runID string, p []storage.PendingDeletion) error {
	return s.sourceRunStore().SetPending(ctx, runID, p)
}

func (s *Store) ListPending(ctx context.Context, runID string, offset, limit int) ([]storage.PendingDeletion, int, error) {
	return s.sourceRunStore().ListPending(ctx, runID, offset, limit)
}

func (s *Store) FinishRun(ctx context.Context, r storage.Run, saveCursor bool, health func(*storage.SourceHealth)) (storage.Run, error) {
	return s.sourceRunStore().FinishRun(ctx, r, saveCursor, health)
}

// setPushState saves a finished push's cursor and health in the app's
// push_state (creating the row) and, when the run succeeded for real,
// clears first_change unless a change arrived after the run started: that
// change may not be in what the run pushed.
func setPushState(tx *txn, r storage.Run, saveCursor bool, health func(*storage.SourceHealth)) error {
	var row struct {
		Cursor      []byte
		Health      sql.NullString
		FirstChange sql.NullInt64
	}
	res := tx.orm.Raw("SELECT cursor, health, first_change FROM push_state WHERE app_id = ?", r.SourceID).Scan(&row)
	if res.Error != nil {
		return translate(res.Error)
	}
	if saveCursor {
		row.Cursor = r.Cursor
	}
	var h storage.SourceHealth
	if err := fromJSONText("push health", orEmpty(row.Health), &h); err != nil {
		return err
	}
	if health != nil {
		health(&h)
	}
	text, err := jsonText("push health", h)
	if err != nil {
		return err
	}
	first := any(nil)
	if row.FirstChange.Valid {
		first = row.FirstChange.Int64
		cleared := r.Status == storage.RunSucceeded && !r.DryRun &&
			!r.Started.IsZero() && row.FirstChange.Int64 <= millis(r.Started)
		if cleared {
			first = nil
		}
	}
	if err := tx.exec(`INSERT INTO push_state (app_id, cursor, health, first_change) VALUES (?, ?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET cursor = excluded.cursor, health = excluded.health,
			first_change = excluded.first_change`, r.SourceID, row.Cursor, text, first); err != nil {
		return fmt.Errorf("save push state: %w", err)
	}
	return nil
}
