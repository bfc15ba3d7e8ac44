package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.PushStore = (*Store)(nil)

// GetPushState returns an app's push state; an app that never pushed has
// zero values. ErrNotFound if there is no such app.
func (s *Store) GetPushState(ctx context.Context, appID string) (storage.PushState, error) {
	rows, err := s.query(ctx, `SELECT a.id, p.cursor, p.health, p.first_change
		FROM apps a LEFT JOIN push_state p ON p.app_id = a.id WHERE a.id = ?`, appID)
	if err != nil {
		return storage.PushState{}, fmt.Errorf("sqlstore: push state %s: %w", appID, err)
	}
	states, err := scanPushStates(rows)
	if err != nil {
		return storage.PushState{}, fmt.Errorf("sqlstore: push state %s: %w", appID, err)
	}
	if len(states) == 0 {
		return storage.PushState{}, fmt.Errorf("sqlstore: push state: application %s: %w", appID, storage.ErrNotFound)
	}
	return states[0], nil
}

// ListPushStates returns every push_state row, by app id. A row exists
// once an app has pushed or its view changed while it had a push.
func (s *Store) ListPushStates(ctx context.Context) ([]storage.PushState, error) {
	rows, err := s.query(ctx, "SELECT app_id, cursor, health, first_change FROM push_state ORDER BY app_id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list push states: %w", err)
	}
	states, err := scanPushStates(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list push states: %w", err)
	}
	if states == nil {
		states = []storage.PushState{}
	}
	return states, nil
}

// scanPushStates reads rows of (app id, cursor, health, first_change) and
// closes rows.
func scanPushStates(rows *sql.Rows) ([]storage.PushState, error) {
	var out []storage.PushState
	err := scanRows(rows, func() error {
		var st storage.PushState
		var health sql.NullString
		var first sql.NullInt64
		if err := rows.Scan(&st.AppID, &st.Cursor, &health, &first); err != nil {
			return translate(err)
		}
		if err := fromJSONText("push health", orEmpty(health), &st.Health); err != nil {
			return err
		}
		st.FirstChange = fromNullMillis(first)
		out = append(out, st)
		return nil
	})
	return out, err
}
