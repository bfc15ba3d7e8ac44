package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.RunStore = (*Store)(nil)

// The run history is one implementation over a table set (runtables.go):
// sources' runs and apps' pushes share every statement, only their tables
// and the state their FinishRun saves differ.

// runStore is the run history of one table set.
type runStore struct {
	s *Store
	t *runTables
}

var _ storage.RunStore = runStore{}

func (t *runTables) selectRuns() string {
	return `SELECT id, ` + t.owner + `, status, trigger, mode, dry_run, queued, started, finished,
	counts, error, notes, cursor, decided_by, change_log_n FROM ` + t.runs
}

func scanRun(sc scanner) (storage.Run, error) {
	var r storage.Run
	var status, counts, notes string
	var queued int64
	var started, finished sql.NullInt64
	if err := sc.Scan(&r.ID, &r.SourceID, &status, &r.Trigger, &r.Mode, &r.DryRun, &queued, &started, &finished,
		&counts, &r.Error, &notes, &r.Cursor, &r.DecidedBy, &r.ChangeLogN); err != nil {
		return storage.Run{}, translate(err)
	}
	r.Status = storage.RunStatus(status)
	r.Queued, r.Started, r.Finished = fromMillis(queued), fromNullMillis(started), fromNullMillis(finished)
	if err := fromJSONText("run counts", counts, &r.Counts); err != nil {
		return storage.Run{}, err
	}
	if err := fromJSONText("run notes", notes, &r.Notes); err != nil {
		return storage.Run{}, err
	}
	return r, nil
}

// runValues flattens the columns a run's updates write, in runSelect order
// from status on.
func runValues(r storage.Run) ([]any, error) {
	counts, err := jsonText("run counts", r.Counts)
	if err != nil {
		return nil, err
	}
	notes := "[]"
	if len(r.Notes) > 0 {
		if notes, err = jsonText("run notes", r.Notes); err != nil {
			return nil, err
		}
	}
	return []any{string(r.Status), r.Trigger, r.Mode, r.DryRun, millis(r.Queued), nullMillis(r.Started), nullMillis(r.Finished),
		counts, r.Error, notes, r.Cursor, r.DecidedBy, r.ChangeLogN}, nil
}

func (t *runTables) updateRun() string {
	return `UPDATE ` + t.runs + ` SET status = ?, trigger = ?, mode = ?, dry_run = ?, queued = ?, started = ?, finished = ?,
	counts = ?, error = ?, notes = ?, cursor = ?, decided_by = ?, change_log_n = ? WHERE id = ?`
}

// CreateRun stores r with a new id; a zero Queued becomes now and an empty
// Status queued. ErrNotFound if the source (or app) does not exist.
func (rs runStore) CreateRun(ctx context.Context, r storage.Run) (storage.Run, error) {
	s, t := rs.s, rs.t
	r.ID = newID()
	if r.Queued.IsZero() {
		r.Queued = s.now()
	}
	if r.Status == "" {
		r.Status = storage.RunQueued
	}
	vals, err := runValues(r)
	if err != nil {
		return storage.Run{}, wrapOp("create run", err)
	}
	var out storage.Run
	err = s.write(ctx, func(tx *txn) error {
		var n int64
		if err := tx.orm.Raw("SELECT COUNT(*) FROM "+t.ownerTable+" WHERE id = ?", r.SourceID).Scan(&n).Error; err != nil {
			return translate(err)
		}
		if n == 0 {
			return fmt.Errorf("%s %s: %w", t.what, r.SourceID, storage.ErrNotFound)
		}
		if err := tx.orm.Exec(`INSERT INTO `+t.runs+` (id, `+t.owner+`, status, trigger, mode, dry_run, queued, started, finished,
			counts, error, notes, cursor, decided_by, change_log_n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{r.ID, r.SourceID}, vals...)...).Error; err != nil {
			return translate(err)
		}
		out, err = t.getRun(tx.orm, "", r.ID)
		return err
	})
	if err != nil {
		return storage.Run{}, wrapOp("create run", err)
	}
	return out, nil
}

// getRun reads a run through db (maybe a transaction); sourceID, when set,
// must match.
func (t *runTables) getRun(db *gorm.DB, sourceID, runID string) (storage.Run, error) {
	q, args := t.selectRuns()+" WHERE id = ?", []any{runID}
	if sourceID != "" {
		q, args = q+" AND "+t.owner+" = ?", append(args, sourceID)
	}
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return storage.Run{}, translate(err)
	}
	var r storage.Run
	found := false
	err = scanRows(rows, func() error {
		found = true
		r, err = scanRun(rows)
		return err
	})
	if err != nil {
		return storage.Run{}, err
	}
	if !found {
		return storage.Run{}, fmt.Errorf("run %s: %w", runID, storage.ErrNotFound)
	}
	return r, nil
}

// GetRun returns a run of a source.
func (rs runStore) GetRun(ctx context.Context, sourceID, runID string) (storage.Run, error) {
	if sourceID == "" {
		return storage.Run{}, fmt.Errorf("sqlstore: run %s: %w", runID, storage.ErrNotFound)
	}
	r, err := rs.t.getRun(rs.s.db.WithContext(ctx), sourceID, runID)
	return r, wrapOp("get run", err)
}

// ListRuns returns a source's latest runs, newest first.
func (rs runStore) ListRuns(ctx context.Context, sourceID string, limit int) ([]storage.Run, error) {
	db, err := rs.s.reader(ctx)
	if err != nil {
		return nil, err
	}
	out := []storage.Run{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := db.Raw(rs.t.selectRuns()+" WHERE "+rs.t.owner+" = ? ORDER BY queued DESC, seq DESC LIMIT ?", sourceID, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list runs: %w", translate(err))
	}
	err = scanRows(rows, func() error {
		r, err := scanRun(rows)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list runs: %w", err)
	}
	return out, nil
}

// UpdateRun is read-modify-write in one transaction; ID and SourceID
// cannot be changed.
func (rs runStore) UpdateRun(ctx context.Context, runID string, update func(*storage.Run) error) (storage.Run, error) {
	t := rs.t
	var out storage.Run
	err := rs.s.write(ctx, func(tx *txn) error {
		cur, err := t.getRun(tx.orm, "", runID)
		if err != nil {
			return err
		}
		next := cur
		if err := update(&next); err != nil {
			return err
		}
		next.ID, next.SourceID = cur.ID, cur.SourceID
		if err := t.storeRun(tx, next); err != nil {
			return err
		}
		out, err = t.getRun(tx.orm, "", runID)
		return err
	})
	if err != nil {
		return storage.Run{}, wrapOp("update run", err)
	}
	return out, nil
}

func (t *runTables) storeRun(tx *txn, r storage.Run) error {
	vals, err := runValues(r)
	if err != nil {
		return err
	}
	res := tx.orm.Exec(t.updateRun(), append(vals, r.ID)...)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("run %s: %w", r.ID, storage.ErrNotFound)
	}
	return nil
}

// saveProgress stores a run's counts in the transaction of the write they
// describe (nil: nothing to store). ErrNotFound if the run is gone, which
// rolls the write back: a run's rows are never written without its counts.
func saveProgress(tx *txn, p *storage.RunProgress) error {
	if p == nil {
		return nil
	}
	counts, err := jsonText("run counts", p.Counts)
	if err != nil {
		return err
	}
	res := tx.orm.Exec("UPDATE runs SET counts = ? WHERE id = ?", counts, p.RunID)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("run %s: %w", p.RunID, storage.ErrNotFound)
	}
	return nil
}

// FinishRun stores the run's outcome and the source (or app) state that
// goes with it in one transaction. The run's owner is the stored one,
// whatever r.SourceID says.
func (rs runStore) FinishRun(ctx context.Context, r storage.Run, saveCursor bool, health func(*storage.SourceHealth)) (storage.Run, error) {
	t := rs.t
	var out storage.Run
	err := rs.s.write(ctx, func(tx *txn) error {
		cur, err := t.getRun(tx.orm, "", r.ID)
		if err != nil {
			return err
		}
		r.SourceID = cur.SourceID
		if err := t.storeRun(tx, r); err != nil {
			return err
		}
		if err := t.saveState(tx, r, saveCursor, health); err != nil {
			return err
		}
		if r.Status.Finished() {
			if err := tx.orm.Exec("DELETE FROM "+t.pending+" WHERE run_id = ?", r.ID).Error; err != nil {
				return translate(err)
			}
		}
		out, err = t.getRun(tx.orm, "", r.ID)
		return err
	})
	if err != nil {
		return storage.Run{}, wrapOp("finish run", err)
	}
	return out, nil
}

// runExists fails with ErrNotFound unless the run exists.
func (t *runTables) runExists(tx *txn, runID string) error {
	var n int64
	if err := tx.orm.Raw("SELECT COUNT(*) FROM "+t.runs+" WHERE id = ?", runID).Scan(&n).Error; err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("run %s: %w", runID, storage.ErrNotFound)
	}
	return nil
}

// AddChanges appends change log entries. ErrConflict if a Seq is already
// logged for the run, ErrNotFound if the run does not exist.
func (rs runStore) AddChanges(ctx context.Context, runID string, changes []storage.Change) error {
	if len(changes) == 0 {
		return nil
	}
	t := rs.t
	err := rs.s.write(ctx, func(tx *txn) error {
		if err := t.runExists(tx, runID); err != nil {
			return err
		}
		const perStatement = 200 // 10 variables each
		return chunks(changes, perStatement, func(chunk []storage.Change) error {
			values := make([]string, len(chunk))
			args := make([]any, 0, 10*len(chunk))
			for i, c := range chunk {
				values[i] = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
				args = append(args, runID, c.Seq, c.Action, c.Kind, c.ResourceID, c.Key, c.Name, c.Detail,
					rawJSON(c.Before), rawJSON(c.After))
			}
			return tx.exec(`INSERT INTO `+t.changes+` (run_id, seq, action, kind, resource_id, source_key, name, detail, before, after)
				VALUES `+strings.Join(values, ", "), args...)
		})
	})
	return wrapOp("add changes", err)
}

// rawJSON stores an optional JSON value; empty is NULL.
func rawJSON(m json.RawMessage) any {
	if len(m) == 0 {
		return nil
	}
	return string(m)
}

// ListChanges pages through a run's change log in Seq order.
func (rs runStore) ListChanges(ctx context.Context, runID string, offset, limit int) ([]storage.Change, int, error) {
	db, err := rs.s.reader(ctx)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.Raw("SELECT COUNT(*) FROM "+rs.t.changes+" WHERE run_id = ?", runID).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list changes: %w", translate(err))
	}
	out := []storage.Change{}
	if limit <= 0 || offset >= total {
		return out, total, nil
	}
	rows, err := db.Raw(`SELECT `+changeColumns+` FROM `+rs.t.changes+` WHERE run_id = ? ORDER BY seq LIMIT ? OFFSET ?`,
		runID, limit, max(offset, 0)).Rows()
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list changes: %w", translate(err))
	}
	err = scanRows(rows, func() error {
		var c storage.Change
		if err := scanChange(rows, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list changes: %w", err)
	}
	return out, total, nil
}

// SetPending replaces a run's pending deletions, keeping their order.
func (rs runStore) SetPending(ctx context.Context, runID string, p []storage.PendingDeletion) error {
	t := rs.t
	err := rs.s.write(ctx, func(tx *txn) error {
		if err := t.runExists(tx, runID); err != nil {
			return err
		}
		if err := tx.orm.Exec("DELETE FROM "+t.pending+" WHERE run_id = ?", runID).Error; err != nil {
			return translate(err)
		}
		const perStatement = 500 // 7 variables each
		pos := 0
		return chunks(p, perStatement, func(chunk []storage.PendingDeletion) error {
			values := make([]string, len(chunk))
			args := make([]any, 0, 7*len(chunk))
			for i, d := range chunk {
				values[i] = "(?, ?, ?, ?, ?, ?, ?)"
				args = append(args, runID, pos, d.Kind, d.ID, d.Key, d.Name, d.Action)
				pos++
			}
			return tx.exec(`INSERT INTO `+t.pending+` (run_id, pos, kind, resource_id, source_key, name, action)
				VALUES `+strings.Join(values, ", "), args...)
		})
	})
	return wrapOp("set pending", err)
}

// ListPending pages through a run's pending deletions in the order they
// were set.
func (rs runStore) ListPending(ctx context.Context, runID string, offset, limit int) ([]storage.PendingDeletion, int, error) {
	db, err := rs.s.reader(ctx)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.Raw("SELECT COUNT(*) FROM "+rs.t.pending+" WHERE run_id = ?", runID).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list pending: %w", translate(err))
	}
	out := []storage.PendingDeletion{}
	if limit <= 0 || offset >= total {
		return out, total, nil
	}
	rows, err := db.Raw(`SELECT kind, resource_id, source_key, name, action FROM `+rs.t.pending+`
		WHERE run_id = ? ORDER BY pos LIMIT ? OFFSET ?`, runID, limit, max(offset, 0)).Rows()
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list pending: %w", translate(err))
	}
	err = scanRows(rows, func() error {
		var d storage.PendingDeletion
		if err := rows.Scan(&d.Kind, &d.ID, &d.Key, &d.Name, &d.Action); err != nil {
			return translate(err)
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list pending: %w", err)
	}
	return out, total, nil
}
