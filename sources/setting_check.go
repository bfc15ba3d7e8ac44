package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// CheckSettings reports what is wrong with the kind's description of its
// settings, so a description cannot drift from what the kind does: a
// malformed tag or a field without help (Describe), a setting described
// as required that the kind's Validate does not ask for, and an example
// or default that the kind's Validate refuses when it is the only setting
// given. Every kind's tests run it.
func (k Kind) CheckSettings() error {
	if k.New == nil {
		return errors.New("sources: the kind has no New")
	}
	settings, err := Describe(k.New())
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	empty := k.New().Validate()
	for _, s := range settings {
		if s.Required && empty[s.Name] == "" {
			problems = append(problems, fmt.Sprintf("%s is described as required, but Validate accepts settings without it", s.Name))
		}
		if s.Example != "" {
			v, _ := s.Parse(s.Example) // Describe reported a malformed one
			if msg := k.refuses(s.Name, v); msg != "" {
				problems = append(problems, fmt.Sprintf("%s's example %q is refused: %s", s.Name, s.Example, msg))
			}
		}
		if s.Default != nil {
			if msg := k.refuses(s.Name, s.Default); msg != "" {
				problems = append(problems, fmt.Sprintf("%s's default %v is refused: %s", s.Name, s.Default, msg))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// refuses returns the kind's objection to name set to value alone (its
// decoding or Validate's message on that field or an item of it), or "".
func (k Kind) refuses(name string, value any) string {
	raw, err := json.Marshal(map[string]any{name: value})
	if err != nil {
		return err.Error()
	}
	cfg := k.New()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return err.Error()
	}
	for field, msg := range cfg.Validate() {
		if field == name || strings.HasPrefix(field, name+"[") {
			return msg
		}
	}
	return ""
}
