package sqlstore

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
)

// backfillSourceMappings rewrites the mapping column of every source from
// the flat form of releases before migration 6, {"user.title": "{t}",
// "group.displayName": "{cn}"}, to storage.SourceMapping's, {"user":
// {"title": "{t}"}, "group": {"displayName": "{cn}"}}. A key with neither
// prefix could never be prepared for a run; it is dropped with a warning.
func backfillSourceMappings(tx *gorm.DB, log *slog.Logger) error {
	type row struct {
		ID      string
		Name    string
		Mapping string
	}
	var rows []row
	if err := tx.Raw("SELECT id, name, mapping FROM sources").Scan(&rows).Error; err != nil {
		return fmt.Errorf("read source mappings: %w", err)
	}
	for _, r := range rows {
		var flat map[string]string
		if r.Mapping == "" {
			r.Mapping = "null"
		}
		if err := json.Unmarshal([]byte(r.Mapping), &flat); err != nil {
			return fmt.Errorf("source %s: mapping is not the old flat form: %w", r.ID, err)
		}
		var m storage.SourceMapping
		for k, v := range flat {
			if target, ok := strings.CutPrefix(k, "user."); ok {
				m.User = putTarget(m.User, target, v)
			} else if target, ok := strings.CutPrefix(k, "group."); ok {
				m.Group = putTarget(m.Group, target, v)
			} else {
				log.Warn("dropped a source mapping key that names neither user. nor group.", "source", r.Name, "key", k)
			}
		}
		text, err := jsonText("mapping", m)
		if err != nil {
			return err
		}
		if err := tx.Exec("UPDATE sources SET mapping = ? WHERE id = ?", text, r.ID).Error; err != nil {
			return fmt.Errorf("update source %s's mapping: %w", r.ID, err)
		}
	}
	return nil
}

func putTarget(m map[string]string, target, template string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[target] = template
	return m
}
