package sources

import (
	"fmt"
	"sort"
	"strings"
)

// FieldErrors maps a setting's name to what is wrong with it; a nil or
// empty map means valid.
type FieldErrors map[string]string

// Add records a problem with field.
func (f *FieldErrors) Add(field, format string, args ...any) {
	if *f == nil {
		*f = FieldErrors{}
	}
	(*f)[field] = fmt.Sprintf(format, args...)
}

// Err returns f as an error, or nil when there is nothing wrong.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &InvalidConfigError{Fields: f}
}

// InvalidConfigError carries every problem with a source's configuration.
type InvalidConfigError struct{ Fields FieldErrors }

func (e *InvalidConfigError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid source configuration: " + strings.Join(parts, "; ")
}
