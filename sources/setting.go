package sources

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Setting describes one setting of a kind, for the config API, the CLI,
// the console's forms and the OpenAPI document alike. It is read from the
// kind's Config struct (see Describe), so the struct is the description.
type Setting struct {
	// Name is the setting's JSON name in a source's settings.
	Name string      `json:"name"`
	Type SettingType `json:"type"`
	// Required settings have no default; a source without one is refused.
	// Settings required only together with others (a client secret or a
	// key) are not marked: their help says when they are needed.
	Required bool `json:"required"`
	// Default is the value used when the setting is absent, as JSON would
	// hold it (a number, true or false, a list, a string); nil when there
	// is none or it is derived from other settings (the help says how).
	Default any `json:"default,omitempty"`
	// Secret settings are write-only and encrypted at rest.
	Secret bool `json:"secret"`
	// Help says what the setting is, its format and when it is needed.
	Help string `json:"help"`
	// Example is a value as an admin would type it in a form; a string
	// list's items are separated by commas.
	Example string `json:"example,omitempty"`
	// Values are the allowed values of an enum, or of a string list's
	// items when they are restricted.
	Values []string `json:"values,omitempty"`
}

// SettingType is how a setting's value is written.
type SettingType string

// Setting types. A form shows text as a multi-line field (PEM keys and
// certificates); duration, url and path are strings in those formats.
const (
	TypeString     SettingType = "string"
	TypeText       SettingType = "text"
	TypeInteger    SettingType = "integer"
	TypeBoolean    SettingType = "boolean"
	TypeDuration   SettingType = "duration"
	TypeURL        SettingType = "url"
	TypePath       SettingType = "path"
	TypeStringList SettingType = "string list"
	TypeEnum       SettingType = "enum"
)

// SettingTypes lists every setting type, for documents that enumerate
// them (the OpenAPI schema's test compares against it).
func SettingTypes() []SettingType {
	return []SettingType{TypeString, TypeText, TypeInteger, TypeBoolean, TypeDuration, TypeURL, TypePath, TypeStringList, TypeEnum}
}

// stringFormats are the types a Go string field may declare with its
// type tag; a values tag makes it an enum instead.
var stringFormats = []SettingType{TypeText, TypeDuration, TypeURL, TypePath}

// Settings describes the kind's settings in its Config's field order; nil
// for a kind without New. A malformed description is described as far as
// it goes; CheckSettings reports what is wrong with it.
func (k Kind) Settings() []Setting {
	if k.New == nil {
		return nil
	}
	settings, _ := Describe(k.New())
	return settings
}

// Secrets names the settings that are write-only and encrypted at rest:
// those the description marks secret.
func (k Kind) Secrets() []string {
	var out []string
	for _, s := range k.Settings() {
		if s.Secret {
			out = append(out, s.Name)
		}
	}
	return out
}

// Describe reads the settings of cfg, a pointer to a struct, from its
// exported fields and their tags:
//
//	json      the setting's name (required)
//	help      what it is, its format, when it is needed (required)
//	example   a value as an admin would type it
//	default   the value used when it is absent
//	required  "true": it must be set
//	secret    "true": write-only, encrypted at rest (strings only)
//	type      text, duration, url or path, for a string in that format
//	values    the allowed values, comma-separated: an enum, or a string
//	          list's allowed items
//
// The Go type gives the rest: string, int (or *int, where absent and 0
// differ), bool, []string. The error names every problem; the settings
// are described as far as they go.
func Describe(cfg Config) ([]Setting, error) {
	t := reflect.TypeOf(cfg)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("sources: describe settings: %T is not a pointer to a struct", cfg)
	}
	var out []Setting
	var problems []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		s, fieldProblems := describeField(f)
		for _, p := range fieldProblems {
			problems = append(problems, fmt.Sprintf("%s.%s: %s", t.Name(), f.Name, p))
		}
		if s.Name != "" {
			out = append(out, s)
		}
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("sources: describe settings of %s: %s", t, strings.Join(problems, "; "))
	}
	return out, nil
}

func describeField(f reflect.StructField) (Setting, []string) {
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return Setting{}, nil
	}
	s := Setting{Name: name, Help: f.Tag.Get("help"), Example: f.Tag.Get("example")}
	if name == "" {
		problem("no json name")
	}
	if strings.TrimSpace(s.Help) == "" {
		problem("no help tag")
	}
	s.Required = boolTag(f, "required", problem)
	s.Secret = boolTag(f, "secret", problem)
	if v := f.Tag.Get("values"); v != "" {
		s.Values = splitList(v)
	}
	s.Type = goType(f.Type, f.Tag.Get("type"), s.Values != nil, problem)
	if s.Secret && s.Type != TypeString && s.Type != TypeText {
		problem("a secret must be a string")
	}
	if def, ok := f.Tag.Lookup("default"); ok {
		if s.Required {
			problem("required and with a default")
		}
		v, err := s.Parse(def)
		if err != nil {
			problem("default: %v", err)
		}
		s.Default = v
	} else if s.Type == TypeBoolean {
		s.Default = false
	}
	if s.Example != "" {
		if _, err := s.Parse(s.Example); err != nil {
			problem("example: %v", err)
		}
	}
	return s, problems
}

func boolTag(f reflect.StructField, key string, problem func(string, ...any)) bool {
	v, ok := f.Tag.Lookup(key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		problem("%s tag %q is not true or false", key, v)
	}
	return b
}

// goType is the setting type of a field of type t with the given type tag.
func goType(t reflect.Type, tag string, hasValues bool, problem func(string, ...any)) SettingType {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var typ SettingType
	switch {
	case t.Kind() == reflect.String && hasValues:
		typ = TypeEnum
	case t.Kind() == reflect.String:
		typ = TypeString
	case t.Kind() == reflect.Int:
		typ = TypeInteger
	case t.Kind() == reflect.Bool:
		typ = TypeBoolean
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		typ = TypeStringList
	default:
		problem("type %s cannot be described (use string, int, *int, bool or []string)", t)
		return TypeString
	}
	if hasValues && typ != TypeEnum && typ != TypeStringList {
		problem("values apply to strings and string lists only")
	}
	if tag == "" {
		return typ
	}
	if typ != TypeString {
		problem("type tag %q applies to plain strings only", tag)
		return typ
	}
	for _, f := range stringFormats {
		if SettingType(tag) == f {
			return f
		}
	}
	problem("type tag %q is not one of %v", tag, stringFormats)
	return typ
}

// Parse reads text, a value as an admin would type it (Example's format),
// into the value the setting's JSON holds: a number for an integer, true
// or false for a boolean, a list for a string list, else the string. It
// checks the format of integers, booleans, durations and enums only; the
// kind's Validate is the judge of the rest.
func (s Setting) Parse(text string) (any, error) {
	switch s.Type {
	case TypeInteger:
		n, err := strconv.Atoi(strings.TrimSpace(text))
		if err != nil {
			return text, fmt.Errorf("%q is not an integer", text)
		}
		return n, nil
	case TypeBoolean:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return text, fmt.Errorf("%q is not true or false", text)
		}
		return b, nil
	case TypeDuration:
		if _, err := time.ParseDuration(strings.TrimSpace(text)); err != nil {
			return text, fmt.Errorf("%q is not a duration such as 90s, 15m or 24h", text)
		}
	case TypeEnum:
		if !containsFold(s.Values, text) {
			return text, fmt.Errorf("%q is not one of %s", text, strings.Join(s.Values, ", "))
		}
	case TypeStringList:
		items := splitList(text)
		for _, item := range items {
			if s.Values != nil && !containsFold(s.Values, item) {
				return items, fmt.Errorf("%q is not one of %s", item, strings.Join(s.Values, ", "))
			}
		}
		return items, nil
	}
	return text, nil
}

// Expects says what JSON value the setting takes, for a message next to
// a value of the wrong type: "an integer, such as 1000".
func (s Setting) Expects() string {
	var want string
	switch s.Type {
	case TypeInteger:
		want = "an integer"
	case TypeBoolean:
		return "true or false"
	case TypeStringList:
		want = "a list of strings"
	default:
		want = "a string"
	}
	if s.Example == "" {
		return want
	}
	example, _ := s.Parse(s.Example)
	raw, err := json.Marshal(example)
	if err != nil {
		return want
	}
	return want + ", such as " + string(raw)
}

// splitList splits comma-separated items, trimmed, dropping empty ones;
// never nil.
func splitList(text string) []string {
	out := []string{}
	for _, item := range strings.Split(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func containsFold(list []string, v string) bool {
	for _, item := range list {
		if strings.EqualFold(item, strings.TrimSpace(v)) {
			return true
		}
	}
	return false
}
