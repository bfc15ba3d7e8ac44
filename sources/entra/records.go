package entra

import (
	"encoding/json"
	"fmt"
	"strings"
)

// object is one entry of a Graph page, property by property.
type object map[string]json.RawMessage

// link is one entry of a members@delta or manager@delta annotation.
type link struct {
	id      string
	group   bool // #microsoft.graph.group; users otherwise
	user    bool
	removed bool // the link was deleted (not necessarily the object)
}

// parsed is an object turned into source attributes.
type parsed struct {
	id      string
	removed string // "", "changed" (soft-deleted) or "deleted" (permanently)
	attrs   map[string]string
	links   map[string][]link // by annotation, e.g. "members", "manager"
}

// parseObject flattens an object into string attributes: strings as they
// are, booleans as true/false, a collection as its first element (e.g.
// businessPhones), a complex value as name.sub (e.g.
// onPremisesExtensionAttributes.extensionAttribute1); null and absent
// both mean unset.
func parseObject(o object) (parsed, error) {
	p := parsed{attrs: make(map[string]string, len(o))}
	for k, raw := range o {
		switch {
		case k == "id":
			if err := json.Unmarshal(raw, &p.id); err != nil {
				return p, fmt.Errorf("id: %w", err)
			}
		case k == "@removed":
			var r struct{ Reason string }
			json.Unmarshal(raw, &r)
			p.removed = r.Reason
			if p.removed == "" {
				p.removed = "deleted"
			}
		case strings.HasSuffix(k, "@delta"):
			links, err := parseLinks(raw)
			if err != nil {
				return p, fmt.Errorf("%s: %w", k, err)
			}
			if p.links == nil {
				p.links = map[string][]link{}
			}
			name := strings.TrimSuffix(k, "@delta")
			p.links[name] = append(p.links[name], links...)
		case strings.Contains(k, "@"):
			// other annotations (@odata.type, ...)
		default:
			flatten(p.attrs, k, raw)
		}
	}
	if p.id == "" {
		return p, fmt.Errorf("an object without an id")
	}
	p.attrs["id"] = p.id // the stable source id, for mappings
	return p, nil
}

func flatten(attrs map[string]string, name string, raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '"':
		if s := string(raw); !strings.ContainsRune(s, '\\') {
			attrs[name] = s[1 : len(s)-1]
			return
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			attrs[name] = s
		}
	case 't', 'f':
		attrs[name] = string(raw)
	case 'n':
	case '[':
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
			flatten(attrs, name, list[0])
		}
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			for k, v := range m {
				if !strings.Contains(k, "@") {
					flatten(attrs, name+"."+k, v)
				}
			}
		}
	default:
		attrs[name] = string(raw) // a number
	}
}

func parseLinks(raw json.RawMessage) ([]link, error) {
	var entries []struct {
		Type    string          `json:"@odata.type"`
		ID      string          `json:"id"`
		Removed json.RawMessage `json:"@removed"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, err
	}
	out := make([]link, 0, len(entries))
	for _, e := range entries {
		if e.ID == "" {
			continue
		}
		l := link{id: e.ID, removed: len(e.Removed) > 0 && string(e.Removed) != "null"}
		switch strings.TrimPrefix(strings.ToLower(e.Type), "#") {
		case "microsoft.graph.group":
			l.group = true
		case "microsoft.graph.user", "":
			l.user = true
		}
		out = append(out, l)
	}
	return out, nil
}

// userAttrs finishes a user's attributes: the reserved "active" from
// accountEnabled, and "manager" from manager@delta. hasManager reports
// whether the object said anything about the manager; a changed user in a
// later round does not (manager@delta comes only when the manager changed).
func userAttrs(p parsed) (attrs map[string]string, hasManager bool) {
	attrs = p.attrs
	if v, ok := attrs["accountEnabled"]; ok {
		attrs["active"] = v
	}
	links, hasManager := p.links["manager"]
	for _, l := range links {
		if l.removed {
			if attrs["manager"] == l.id {
				delete(attrs, "manager")
			}
			continue
		}
		attrs["manager"] = l.id
	}
	return attrs, hasManager
}
