package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// decodeSettings decodes settings, a JSON object, into a fresh config of
// kind (named kindName), checked against the kind's description first so
// that every problem is reported at once and next to its setting:
// unknown names under "settings" (with the names the kind has: JSON's own
// decoding would accept "UsersPath" for usersPath, and a secret sent that
// way would be kept unsealed), a value of the wrong JSON type under
// "settings.<name>" (with what it must be), then what the kind's Validate
// says of the rest.
func decodeSettings(kind sources.Kind, kindName string, settings []byte) (sources.Config, sources.FieldErrors) {
	var errs sources.FieldErrors
	cfg := kind.New()
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(settings)) > 0 {
		if err := json.Unmarshal(settings, &fields); err != nil {
			errs.Add("settings", "must be a JSON object")
			return cfg, errs
		}
	}
	described := map[string]sources.Setting{}
	var names []string
	for _, s := range kind.Settings() {
		described[s.Name] = s
		names = append(names, s.Name)
	}
	var unknown []string
	known := map[string]json.RawMessage{}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		s, ok := described[name]
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", name))
		case decodeOne(kind, name, fields[name]) != nil:
			errs.Add("settings."+name, "must be %s", s.Expects())
		default:
			known[name] = fields[name]
		}
	}
	if len(unknown) > 0 {
		errs.Add("settings", "unknown setting %s; the %s kind's settings are %s (GET /api/v1/kinds describes them)",
			strings.Join(unknown, ", "), kindName, strings.Join(names, ", "))
	}
	if err := decodeInto(cfg, known); err != nil {
		// Each value decoded alone above; together they must too.
		errs.Add("settings", "%v", err)
		return cfg, errs
	}
	for field, msg := range cfg.Validate() {
		if errs["settings."+field] == "" {
			errs.Add("settings."+field, "%s", msg)
		}
	}
	return cfg, errs
}

// decodeOne reports whether the value raw of setting name fits the
// kind's config.
func decodeOne(kind sources.Kind, name string, raw json.RawMessage) error {
	return decodeInto(kind.New(), map[string]json.RawMessage{name: raw})
}

func decodeInto(cfg sources.Config, fields map[string]json.RawMessage) error {
	raw, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(cfg)
}
