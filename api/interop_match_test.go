package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// anyValue is the matcher "{{any}}": any value that is present and not null.
const anyValue = "any"

// matchJSON reports how got differs from want. Objects match when every
// key of want matches in got (got may have more); arrays when they have the
// same length and each element of want matches a different element of got,
// in any order; numbers when they are written the same (so 1 is not "1" nor
// 1.0); "{{any}}" matches any non-null value; everything else by equality.
func matchJSON(want, got any, at string) error {
	if s, ok := want.(string); ok && s == "{{"+anyValue+"}}" {
		if got == nil {
			return fmt.Errorf("%s: missing, want a value", where(at))
		}
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %s, want an object", where(at), brief(got))
		}
		for _, k := range sortedKeys(w) {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s/%s: missing, want %s", where(at), k, brief(w[k]))
			}
			if err := matchJSON(w[k], gv, at+"/"+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %s, want %d elements like %s", where(at), brief(got), len(w), brief(w))
		}
		if !matchUnordered(w, g, make([]bool, len(g)), at) {
			return fmt.Errorf("%s: got %s, want elements matching %s in any order", where(at), brief(got), brief(w))
		}
		return nil
	case json.Number:
		if g, ok := got.(json.Number); !ok || g != w {
			return fmt.Errorf("%s: got %s, want the JSON number %s", where(at), brief(got), w)
		}
		return nil
	}
	if fmt.Sprintf("%T %v", want, want) != fmt.Sprintf("%T %v", got, got) {
		return fmt.Errorf("%s: got %s, want %s", where(at), brief(got), brief(want))
	}
	return nil
}

// matchUnordered finds a distinct element of got for each of want.
func matchUnordered(want, got []any, used []bool, at string) bool {
	if len(want) == 0 {
		return true
	}
	for i, g := range got {
		if !used[i] && matchJSON(want[0], g, at) == nil {
			used[i] = true
			if matchUnordered(want[1:], got, used, at) {
				return true
			}
			used[i] = false
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func where(at string) string {
	if at == "" {
		return "body"
	}
	return "body" + at
}

func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 300)
}

// TestMatchJSON pins down the matcher the golden files rely on.
func TestMatchJSON(t *testing.T) {
	cases := []struct {
		want, got string
		ok        bool
	}{
		{`{"a":1}`, `{"a":1,"b":2}`, true},
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":1}`, `{"a":1.0}`, false},
		{`{"a":{"b":true}}`, `{"a":{"b":true,"c":null}}`, true},
		{`{"a":{"b":true}}`, `{"a":{"b":false}}`, false},
		{`{"a":[{"v":1},{"v":2}]}`, `{"a":[{"v":2,"x":0},{"v":1}]}`, true},
		{`{"a":[{"v":1}]}`, `{"a":[{"v":1},{"v":2}]}`, false},
		{`{"a":[{},{"v":1}]}`, `{"a":[{"v":1},{"v":2}]}`, true},
		{`{"a":[]}`, `{"a":null}`, false},
		{`{"a":"{{any}}"}`, `{"a":"x"}`, true},
		{`{"a":"{{any}}"}`, `{"a":null}`, false},
		{`{"a":"{{any}}"}`, `{}`, false},
		{`{"a":null}`, `{"a":null}`, true},
		{`"x"`, `"X"`, false},
	}
	for _, c := range cases {
		err := matchJSON(decodeNumbers(t, c.want), decodeNumbers(t, c.got), "")
		if (err == nil) != c.ok {
			t.Errorf("matchJSON(%s, %s) = %v, want ok=%v", c.want, c.got, err, c.ok)
		}
	}
}

// TestInteropCoversEveryQuirk: each quirk the SCIM layer absorbs
// (scim/normalize.go) is exercised by at least one golden step.
func TestInteropCoversEveryQuirk(t *testing.T) {
	want := []string{
		"replace-with-null-is-remove", "replace-without-value-is-remove", "add-with-null-is-noop",
		"null-in-pathless-value-is-remove", "boolean-as-string", "bare-id-for-complex-value",
		"filter-sub-attribute-after-value-path",
	}
	dirs, err := filepath.Glob(filepath.Join(interopDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if info, err := os.Stat(d); err != nil || !info.IsDir() {
			continue
		}
		for _, s := range loadSteps(t, d) {
			for _, q := range s.step.Quirks {
				seen[q] = true
			}
		}
	}
	for _, q := range want {
		if !seen[q] {
			t.Errorf("no golden step exercises the quirk %q", q)
		}
	}
	for q := range seen {
		if !slices.Contains(want, q) {
			t.Errorf("golden steps expect the unknown quirk %q", q)
		}
	}
}
