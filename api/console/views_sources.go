package console

import (
	"encoding/json"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// sourceDetail is GET /api/v1/sources/{id} as the source's page and its
// edit form read it.
type sourceDetail struct {
	sourceView
	Settings         map[string]json.RawMessage `json:"settings"`
	SecretsSet       []string                   `json:"secretsSet"`
	Mapping          storage.SourceMapping      `json:"mapping"`
	EffectiveMapping storage.SourceMapping      `json:"effectiveMapping"`
	Scope            string                     `json:"scope"`
	Deletion         storage.DeletionPolicy     `json:"deletion"`
	Precedence       int                        `json:"precedence"`
	Link             map[string]string          `json:"link"`
	Authoritative    []string                   `json:"authoritative"`
	HasCursor        bool                       `json:"hasCursor"`
	Created          time.Time                  `json:"created"`
	Updated          time.Time                  `json:"updated"`
}

// kindView is one entry of GET /api/v1/kinds.
type kindView struct {
	Name           string                `json:"name"`
	Description    string                `json:"description"`
	DefaultMapping storage.SourceMapping `json:"defaultMapping"`
	Settings       []settingView         `json:"settings"`
}

// settingView describes one setting of a kind (sources.Setting).
type settingView struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Default  any      `json:"default"`
	Secret   bool     `json:"secret"`
	Help     string   `json:"help"`
	Example  string   `json:"example"`
	Values   []string `json:"values"`
}

// Setting types the form renders specially (sources.SettingType); the
// rest are one-line text.
const (
	typeText       = "text"
	typeInteger    = "integer"
	typeBoolean    = "boolean"
	typeStringList = "string list"
	typeEnum       = "enum"
)

// testResult is POST /sources/{id}/test's answer.
type testResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// schedulePreview is GET /schedules/preview's answer.
type schedulePreview struct {
	Next []time.Time `json:"next"`
}
