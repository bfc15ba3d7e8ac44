package console

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// The form's field names are the API's field paths (name, schedule,
// deletion.maxPercent, settings.usersPath, mapping.user), so the API's
// field errors land next to their controls without a translation table.
const (
	fieldName       = "name"
	fieldEnabled    = "enabled"
	fieldSchedule   = "schedule"
	fieldPrecedence = "precedence"
	fieldScope      = "scope"
	fieldPolicy     = "deletion.policy"
	fieldMaxPercent = "deletion.maxPercent"
	fieldMaxCount   = "deletion.maxCount"
	fieldGraceDays  = "deletion.graceDays"
	fieldMapping    = "mapping."
	fieldLink       = "link"
	fieldAuthz      = "authoritative"
	settingsPrefix  = "settings."
	// clearPrefix names the box that clears a stored optional secret
	// (clear.settings.clientSecret).
	clearPrefix = "clear."
)

// mappingTargets are the mapping textareas: users' and groups'.
var mappingTargets = []string{"user", "group"}

// sourceBody turns a posted source form into the API's JSON body (a
// source input for POST or PUT). Values the form cannot express as JSON
// (a word in a number field, a mapping line without "=") come back as
// field problems, by the API's field names, and no body.
func sourceBody(kind kindView, form url.Values) (map[string]any, map[string]string) {
	problems := map[string]string{}
	body := map[string]any{
		"kind":     kind.Name,
		"name":     strings.TrimSpace(form.Get(fieldName)),
		"enabled":  form.Get(fieldEnabled) == "true",
		"schedule": strings.TrimSpace(form.Get(fieldSchedule)),
		"scope":    strings.TrimSpace(form.Get(fieldScope)),
	}
	number := func(field string, float bool) (any, bool) {
		raw := strings.TrimSpace(form.Get(field))
		if raw == "" {
			return nil, false
		}
		if float {
			if f, err := strconv.ParseFloat(raw, 64); err == nil {
				return f, true
			}
			problems[field] = "enter a number, such as 20 or 12.5"
			return nil, false
		}
		if n, err := strconv.Atoi(raw); err == nil {
			return n, true
		}
		problems[field] = "enter a whole number, such as 10"
		return nil, false
	}
	if v, ok := number(fieldPrecedence, false); ok {
		body["precedence"] = v
	}
	deletion := map[string]any{}
	if p := form.Get(fieldPolicy); p != "" {
		deletion["policy"] = p
	}
	for _, f := range []struct {
		field string
		float bool
	}{{fieldMaxPercent, true}, {fieldMaxCount, false}, {fieldGraceDays, false}} {
		if v, ok := number(f.field, f.float); ok {
			deletion[strings.TrimPrefix(f.field, "deletion.")] = v
		}
	}
	body["deletion"] = deletion
	mapping := map[string]map[string]string{}
	for _, target := range mappingTargets {
		m, problem := parseMapping(form.Get(fieldMapping+target), "mapping", "target", "title = {title}")
		if problem != "" {
			problems[fieldMapping+target] = problem
		}
		mapping[target] = m
	}
	body["mapping"] = mapping
	// The form is the whole source: empty link keys and authoritative
	// attributes clear them (PUT).
	link, problem := parseMapping(form.Get(fieldLink), "link key", "name", "employeeId = {employeeNumber}")
	if problem != "" {
		problems[fieldLink] = problem
	}
	body["link"] = link
	authz := splitList(form.Get(fieldAuthz))
	if authz == nil {
		authz = []string{}
	}
	body["authoritative"] = authz
	settings := map[string]any{}
	for _, s := range kind.Settings {
		field := settingsPrefix + s.Name
		raw := form.Get(field)
		switch {
		case s.Type == typeBoolean:
			// An unchecked box is false; sent only where that is not
			// already the default.
			on := raw == "true"
			if on || s.Default == true {
				settings[s.Name] = on
			}
		case s.Secret:
			// Empty keeps the stored secret (the API's PUT contract);
			// sent empty, it is cleared.
			if raw != "" || form.Get(clearPrefix+field) == "true" {
				settings[s.Name] = raw
			}
		case strings.TrimSpace(raw) == "":
		case s.Type == typeInteger:
			if v, ok := number(field, false); ok {
				settings[s.Name] = v
			}
		case s.Type == typeStringList:
			settings[s.Name] = splitList(raw)
		case s.Type == typeText:
			settings[s.Name] = raw
		default:
			settings[s.Name] = strings.TrimSpace(raw)
		}
	}
	body["settings"] = settings
	if len(problems) > 0 {
		return nil, problems
	}
	return body, nil
}

// parseMapping reads "target = template" lines (a mapping's, or link
// keys' "name = template"); blank lines and lines starting with # are
// skipped, and "target =" removes the kind's default. A problem says what
// a line holds (one, named key) as example shows.
func parseMapping(text, one, key, example string) (map[string]string, string) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		target, template, ok := strings.Cut(line, "=")
		target = strings.TrimSpace(target)
		if !ok || target == "" {
			return nil, fmt.Sprintf("line %d: write one %s a line as %s = template, for example %s", i+1, one, key, example)
		}
		out[target] = strings.TrimSpace(template)
	}
	return out, ""
}

// mappingText writes mapping overrides as the textarea's lines, sorted.
func mappingText(m map[string]string) string {
	lines := make([]string, 0, len(m))
	for k, v := range m {
		lines = append(lines, strings.TrimSpace(k+" = "+v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// mappingRow is one target of an effective mapping, marked when this
// source overrides the kind's default for it.
type mappingRow struct {
	Target, Template string
	Override         bool
}

// mappingRows lists an effective mapping sorted by target.
func mappingRows(effective, overrides map[string]string) []mappingRow {
	rows := make([]mappingRow, 0, len(effective))
	for k, v := range effective {
		_, over := overrides[k]
		rows = append(rows, mappingRow{Target: k, Template: v, Override: over})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Target < rows[j].Target })
	return rows
}

// mappingTables are a source's effective user and group mappings.
type mappingTables struct{ User, Group []mappingRow }

func effectiveTables(effective, overrides storage.SourceMapping) mappingTables {
	return mappingTables{User: mappingRows(effective.User, overrides.User), Group: mappingRows(effective.Group, overrides.Group)}
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// settingText shows a stored setting as a form field holds it.
func settingText(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return valueText(v)
}

// valueText writes a JSON value as a person types it: lists with commas.
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, item := range x {
			parts[i] = valueText(item)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sourceValues are a stored source as its edit form's values; a box the
// source does not set shows its setting's default.
func sourceValues(src sourceDetail, kind kindView) url.Values {
	v := url.Values{}
	v.Set(fieldName, src.Name)
	if src.Enabled {
		v.Set(fieldEnabled, "true")
	}
	v.Set(fieldSchedule, src.Schedule)
	v.Set(fieldPrecedence, strconv.Itoa(src.Precedence))
	v.Set(fieldScope, src.Scope)
	v.Set(fieldPolicy, src.Deletion.Policy)
	v.Set(fieldMaxPercent, strconv.FormatFloat(src.Deletion.MaxPercent, 'f', -1, 64))
	v.Set(fieldMaxCount, strconv.Itoa(src.Deletion.MaxCount))
	v.Set(fieldGraceDays, strconv.Itoa(src.Deletion.GraceDays))
	v.Set(fieldMapping+"user", mappingText(src.Mapping.User))
	v.Set(fieldMapping+"group", mappingText(src.Mapping.Group))
	v.Set(fieldLink, mappingText(src.Link))
	v.Set(fieldAuthz, strings.Join(src.Authoritative, ", "))
	for name, raw := range src.Settings {
		v.Set(settingsPrefix+name, settingText(raw))
	}
	for _, s := range kind.Settings {
		if _, set := src.Settings[s.Name]; !set && s.Type == typeBoolean && s.Default == true {
			v.Set(settingsPrefix+s.Name, "true")
		}
	}
	return v
}

// joinNames lists names for a sentence: "a, b and c".
func joinNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// newSourceValues are a new source's form values: enabled, the boxes
// of settings that default to on, the rest empty (the kind's defaults,
// shown as placeholders, apply).
func newSourceValues(kind kindView) url.Values {
	v := url.Values{}
	v.Set(fieldEnabled, "true")
	v.Set(fieldPolicy, storage.PolicyDeactivate)
	for _, s := range kind.Settings {
		if s.Type == typeBoolean && s.Default == true {
			v.Set(settingsPrefix+s.Name, "true")
		}
	}
	return v
}
