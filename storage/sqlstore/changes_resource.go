package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// changeColumns are a change-log row's columns in the order scanChange
// reads them.
const changeColumns = "seq, action, kind, resource_id, source_key, name, detail, before, after"

// scanChange reads one change-log row's changeColumns after the leading
// columns in dest.
func scanChange(sc scanner, c *storage.Change, dest ...any) error {
	var before, after sql.NullString
	dest = append(dest, &c.Seq, &c.Action, &c.Kind, &c.ResourceID, &c.Key, &c.Name, &c.Detail, &before, &after)
	if err := sc.Scan(dest...); err != nil {
		return translate(err)
	}
	if before.Valid {
		c.Before = json.RawMessage(before.String)
	}
	if after.Valid {
		c.After = json.RawMessage(after.String)
	}
	return nil
}

func (s *Store) ResourceChanges(ctx context.Context, resourceID string, limit int) ([]storage.ResourceChange, error) {
	return s.sourceRunStore().ResourceChanges(ctx, resourceID, limit)
}

// ResourceChanges reads a resource's history through the change log's
// resource_id index (migration 12), joined to the runs for their order.
func (rs runStore) ResourceChanges(ctx context.Context, resourceID string, limit int) ([]storage.ResourceChange, error) {
	out := []storage.ResourceChange{}
	limit = min(limit, storage.MaxResourceChanges)
	if limit <= 0 || resourceID == "" {
		return out, nil
	}
	db, err := rs.s.reader(ctx)
	if err != nil {
		return nil, err
	}
	t := rs.t
	rows, err := db.Raw(`SELECT r.id, r.`+t.owner+`, r.status, r.queued, c.`+changeColumns+`
		FROM `+t.changes+` c JOIN `+t.runs+` r ON r.id = c.run_id
		WHERE c.resource_id = ? ORDER BY r.queued DESC, r.id DESC, c.seq DESC LIMIT ?`, resourceID, limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: resource changes: %w", translate(err))
	}
	err = scanRows(rows, func() error {
		var rc storage.ResourceChange
		var status string
		var queued int64
		if err := scanChange(rows, &rc.Change, &rc.RunID, &rc.SourceID, &status, &queued); err != nil {
			return err
		}
		rc.RunStatus, rc.Queued = storage.RunStatus(status), fromMillis(queued)
		out = append(out, rc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: resource changes: %w", err)
	}
	return out, nil
}
