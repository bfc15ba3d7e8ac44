package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// fact is one line of a resource's facts list: an attribute path and its
// value in words, and the console page of the user it refers to, if any.
type fact struct {
	Name, Value string
	Href        string
	// From and FromID name the source the attribute came from, on a
	// user several sources make (provenanceView.annotate).
	From, FromID string
}

// userRefs are the attributes whose value is another user's id.
var userRefs = map[string]bool{string(storage.AttrManager): true}

// factsOf lists a SCIM resource's attributes in the order the resource
// has them, nested objects as dotted paths ("name.givenName") and
// multi-valued attributes one line per element, so a person reads it
// without knowing JSON. The schemas list is SCIM's bookkeeping: left out.
func factsOf(raw []byte) ([]fact, error) {
	var out []fact
	if err := walkObject(raw, "", &out); err != nil {
		return nil, fmt.Errorf("console: reading the resource: %w", err)
	}
	return out, nil
}

// walkObject appends the facts of one JSON object, keys in order.
func walkObject(raw []byte, prefix string, out *[]fact) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return err
		}
		if prefix == "" && key == "schemas" {
			continue
		}
		if key == storage.EnterpriseSchema {
			key = "enterprise"
		}
		name := key
		if prefix != "" {
			name = prefix + "." + key
		}
		if err := walkValue(val, name, out); err != nil {
			return err
		}
	}
	return nil
}

func walkValue(val json.RawMessage, name string, out *[]fact) error {
	val = bytes.TrimSpace(val)
	switch {
	case len(val) == 0:
		return nil
	case val[0] == '{':
		return walkObject(val, name, out)
	case val[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(val, &items); err != nil {
			return err
		}
		for _, it := range items {
			*out = append(*out, fact{Name: name, Value: elementWords(it)})
		}
		return nil
	}
	f := fact{Name: name, Value: scalarWords(val)}
	if userRefs[name] && f.Value != "" {
		f.Href = Prefix + "/directory/users/" + url.PathEscape(f.Value)
	}
	*out = append(*out, f)
	return nil
}

// elementWords is one element of a multi-valued attribute: its value with
// its type and primary mark ("ada@example.com (work, primary)"), or its
// JSON when it has no value.
func elementWords(raw json.RawMessage) string {
	var mv struct {
		Value   *json.RawMessage `json:"value"`
		Display string           `json:"display"`
		Type    string           `json:"type"`
		Primary bool             `json:"primary"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && json.Unmarshal(raw, &mv) == nil && mv.Value != nil {
		var notes []string
		if mv.Display != "" {
			notes = append(notes, mv.Display)
		}
		if mv.Type != "" {
			notes = append(notes, mv.Type)
		}
		if mv.Primary {
			notes = append(notes, "primary")
		}
		s := scalarWords(*mv.Value)
		if len(notes) > 0 {
			s += " (" + strings.Join(notes, ", ") + ")"
		}
		return s
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var compact bytes.Buffer
		if json.Compact(&compact, raw) == nil {
			return compact.String()
		}
	}
	return scalarWords(raw)
}

// scalarWords is a JSON string, number, boolean or null in words.
func scalarWords(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case nil:
		return "(none)"
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		return x
	}
	return string(raw)
}
