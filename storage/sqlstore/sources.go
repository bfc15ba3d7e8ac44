package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
)

var _ storage.SourceStore = (*Store)(nil)

// sourceColumns are the columns after id, in the order sourceValues
// gives them; linkColumns follow them from migration 13 on.
var (
	sourceColumns = []string{"name", "kind", "enabled", "schedule", "settings", "secrets", "mapping", "scope",
		"deletion", "precedence", "cursor", "health", "created", "updated", "version"}
	linkColumns = []string{"link", "authoritative"}
)

// sourceCols are the columns after id that this store's schema has.
func (s *Store) sourceCols() []string {
	if s.hasLinks() {
		return append(slices.Clip(sourceColumns), linkColumns...)
	}
	return sourceColumns
}

// sourceSelect reads the columns scanSource scans.
func sourceSelect(cols []string) string {
	return "SELECT id, " + strings.Join(cols, ", ") + " FROM sources"
}

// sourceRow is a source as stored: structured fields as JSON text.
type sourceRow struct {
	ID, Name, Kind, Schedule, Scope string
	Enabled                         bool
	Settings, Secrets, Mapping      string
	Deletion, Health                string
	Precedence                      int
	Cursor                          []byte
	Created, Updated, Version       int64
	Link, Authoritative             string
}

// scanSource scans a row of sourceSelect(cols).
func scanSource(sc scanner, cols []string) (storage.Source, error) {
	var r sourceRow
	dest := []any{&r.ID, &r.Name, &r.Kind, &r.Enabled, &r.Schedule, &r.Settings, &r.Secrets, &r.Mapping, &r.Scope,
		&r.Deletion, &r.Precedence, &r.Cursor, &r.Health, &r.Created, &r.Updated, &r.Version}
	if len(cols) > len(sourceColumns) {
		dest = append(dest, &r.Link, &r.Authoritative)
	}
	if err := sc.Scan(dest...); err != nil {
		return storage.Source{}, translate(err)
	}
	src := storage.Source{
		ID: r.ID, Name: r.Name, Kind: r.Kind, Enabled: r.Enabled, Schedule: r.Schedule, Scope: r.Scope,
		Precedence: r.Precedence, Cursor: r.Cursor,
		Created: fromMillis(r.Created), Updated: fromMillis(r.Updated), Version: r.Version,
	}
	if r.Settings != "" && r.Settings != "null" {
		src.Settings = json.RawMessage(r.Settings)
	}
	for _, f := range []struct {
		what, text string
		into       any
	}{
		{"secrets", r.Secrets, &src.Secrets},
		{"mapping", r.Mapping, &src.Mapping},
		{"deletion policy", r.Deletion, &src.Deletion},
		{"health", r.Health, &src.Health},
		{"link keys", r.Link, &src.Link},
		{"authoritative attributes", r.Authoritative, &src.Authoritative},
	} {
		if err := fromJSONText(f.what, f.text, f.into); err != nil {
			return storage.Source{}, fmt.Errorf("source %s: %w", r.ID, err)
		}
	}
	return src, nil
}

// sourceValues flattens src for cols, the columns after id.
func sourceValues(src storage.Source, cols []string) ([]any, error) {
	settings := "null"
	if len(src.Settings) > 0 {
		if !json.Valid(src.Settings) {
			return nil, storage.Invalid("source settings are not valid JSON")
		}
		settings = string(src.Settings)
	}
	var texts [4]string
	for i, f := range []struct {
		what string
		v    any
	}{{"secrets", src.Secrets}, {"mapping", src.Mapping}, {"deletion policy", src.Deletion}, {"health", src.Health}} {
		t, err := jsonText(f.what, f.v)
		if err != nil {
			return nil, err
		}
		texts[i] = t
	}
	vals := []any{src.Name, src.Kind, src.Enabled, src.Schedule, settings, texts[0], texts[1], src.Scope,
		texts[2], src.Precedence, src.Cursor, texts[3], millis(src.Created), millis(src.Updated), src.Version}
	if len(cols) == len(sourceColumns) {
		if len(src.Link) > 0 || len(src.Authoritative) > 0 {
			return nil, storage.Invalid("this database's schema predates identity linking; link and authoritative cannot be stored")
		}
		return vals, nil
	}
	// An empty setting is stored as none, so it reads back as nil.
	link, err := jsonText("link keys", nilIfEmptyMap(src.Link))
	if err != nil {
		return nil, err
	}
	auth, err := jsonText("authoritative attributes", nilIfEmptySlice(src.Authoritative))
	if err != nil {
		return nil, err
	}
	return append(vals, link, auth), nil
}

func nilIfEmptyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nilIfEmptySlice(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// CreateSource stores src with a new id and version 1.
func (s *Store) CreateSource(ctx context.Context, src storage.Source) (storage.Source, error) {
	now := msUTC(s.now())
	if src.ID == "" {
		src.ID = newID()
	}
	src.Created, src.Updated, src.Version = now, now, 1
	cols := s.sourceCols()
	vals, err := sourceValues(src, cols)
	if err != nil {
		return storage.Source{}, wrapOp("create source", err)
	}
	err = s.write(ctx, func(tx *txn) error {
		return tx.exec(`INSERT INTO sources (id, `+strings.Join(cols, ", ")+`)
			VALUES (?, `+placeholders(len(cols))+`)`, append([]any{src.ID}, vals...)...)
	})
	if err != nil {
		return storage.Source{}, wrapOp(fmt.Sprintf("create source %q", src.Name), err)
	}
	return s.GetSource(ctx, src.ID)
}

// GetSource returns one source.
func (s *Store) GetSource(ctx context.Context, id string) (storage.Source, error) {
	src, err := getSource(s.db.WithContext(ctx), s.sourceCols(), id)
	if err != nil {
		return storage.Source{}, wrapOp("get source", err)
	}
	return src, nil
}

// getSource reads a source's cols through db, which may be a transaction.
func getSource(db *gorm.DB, cols []string, id string) (storage.Source, error) {
	rows, err := db.Raw(sourceSelect(cols)+" WHERE id = ?", id).Rows()
	if err != nil {
		return storage.Source{}, translate(err)
	}
	var src storage.Source
	found := false
	err = scanRows(rows, func() error {
		found = true
		src, err = scanSource(rows, cols)
		return err
	})
	if err != nil {
		return storage.Source{}, err
	}
	if !found {
		return storage.Source{}, fmt.Errorf("source %s: %w", id, storage.ErrNotFound)
	}
	return src, nil
}

// ListSources returns every source in creation order.
func (s *Store) ListSources(ctx context.Context) ([]storage.Source, error) {
	cols := s.sourceCols()
	rows, err := s.db.WithContext(ctx).Raw(sourceSelect(cols) + " ORDER BY seq").Rows()
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sources: %w", translate(err))
	}
	out := []storage.Source{}
	err = scanRows(rows, func() error {
		src, err := scanSource(rows, cols)
		out = append(out, src)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sources: %w", err)
	}
	return out, nil
}

// UpdateSource is read-modify-write in one transaction.
func (s *Store) UpdateSource(ctx context.Context, id string, update func(*storage.Source) error) (storage.Source, error) {
	var out storage.Source
	cols := s.sourceCols()
	err := s.write(ctx, func(tx *txn) error {
		cur, err := getSource(tx.orm, cols, id)
		if err != nil {
			return err
		}
		next := cur
		if err := update(&next); err != nil {
			return err
		}
		next.ID, next.Created = cur.ID, cur.Created
		next.Updated, next.Version = msUTC(s.now()), cur.Version+1
		vals, err := sourceValues(next, cols)
		if err != nil {
			return err
		}
		if err := tx.orm.Exec(`UPDATE sources SET `+strings.Join(cols, " = ?, ")+` = ? WHERE id = ?`,
			append(vals, id)...).Error; err != nil {
			return translate(err)
		}
		out, err = getSource(tx.orm, cols, id)
		return err
	})
	if err != nil {
		return storage.Source{}, wrapOp("update source", err)
	}
	return out, nil
}

// DeleteSource removes a source; its runs, their change logs and pending
// deletions go by cascade. Users and groups it owns are not touched.
func (s *Store) DeleteSource(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *txn) error {
		res := tx.orm.Exec("DELETE FROM sources WHERE id = ?", id)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("source %s: %w", id, storage.ErrNotFound)
		}
		return nil
	})
	return wrapOp("delete source", err)
}

// setSourceState stores the runtime state FinishRun owns: the cursor and
// the health. They are not configuration, so version and updated stay.
func setSourceState(tx *txn, id string, cursor []byte, saveCursor bool, health func(*storage.SourceHealth)) error {
	if !saveCursor && health == nil {
		return nil
	}
	var row struct {
		Cursor []byte
		Health sql.NullString
	}
	res := tx.orm.Raw("SELECT cursor, health FROM sources WHERE id = ?", id).Scan(&row)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("source %s: %w", id, storage.ErrNotFound)
	}
	if saveCursor {
		row.Cursor = cursor
	}
	var h storage.SourceHealth
	if err := fromJSONText("health", orEmpty(row.Health), &h); err != nil {
		return err
	}
	if health != nil {
		health(&h)
	}
	text, err := jsonText("health", h)
	if err != nil {
		return err
	}
	return tx.exec("UPDATE sources SET cursor = ?, health = ? WHERE id = ?", row.Cursor, text, id)
}
