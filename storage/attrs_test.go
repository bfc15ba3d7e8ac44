package storage_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// TestAttrAccessorsReachTheirSCIMPath checks each entry of the attribute
// tables against the SCIM representation: what an entry's setter writes
// is found at the entry's path in the resource's JSON, and what its getter
// reads comes back. id and meta are not in the document (the store keeps
// them apart), so those only round-trip.
func TestAttrAccessorsReachTheirSCIMPath(t *testing.T) {
	t.Run("users", func(t *testing.T) { checkAccessors(t, storage.UserAttrs()) })
	t.Run("groups", func(t *testing.T) { checkAccessors(t, storage.GroupAttrs()) })
}

func checkAccessors[R storage.Resource](t *testing.T, attrs []storage.AttrSpec[R]) {
	seen := map[storage.Attr]bool{}
	for _, a := range attrs {
		t.Run(string(a.Attr), func(t *testing.T) {
			if seen[a.Attr] {
				t.Fatalf("%s is in the table twice", a.Attr)
			}
			seen[a.Attr] = true
			var r R
			var want any
			switch a.Type {
			case storage.TypeString:
				a.SetString(&r, "v-"+string(a.Attr))
				if got := a.String(&r); got != "v-"+string(a.Attr) {
					t.Fatalf("String = %q after SetString", got)
				}
				want = "v-" + string(a.Attr)
			case storage.TypeBoolean:
				a.SetBool(&r, true)
				if !a.Bool(&r) {
					t.Fatal("Bool = false after SetBool(true)")
				}
				want = true
			case storage.TypeDateTime:
				at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
				a.SetTime(&r, at)
				if !a.Time(&r).Equal(at) {
					t.Fatalf("Time = %v after SetTime(%v)", a.Time(&r), at)
				}
				return
			case storage.TypeMulti:
				if a.Values == nil || len(a.Values.Subs) == 0 {
					t.Fatal("a multi-valued attribute without a child table")
				}
				if a.Attr == storage.AttrMembers {
					return // Group.Members, which the store writes apart
				}
				a.AddElement(&r, storage.MultiValue{Value: "v"})
				if got := a.Elements(&r); len(got) != 1 || got[0].Value != "v" {
					t.Fatalf("Elements = %v after AddElement", got)
				}
				want = []any{map[string]any{"value": "v"}}
			}
			if a.Attr == storage.AttrID {
				return
			}
			doc, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(doc, &v); err != nil {
				t.Fatal(err)
			}
			if a.Schema != "" {
				v = v.(map[string]any)[a.Schema]
			}
			for _, step := range strings.Split(a.Path, ".") {
				m, _ := v.(map[string]any)
				v = m[step]
			}
			if got, _ := json.Marshal(v); string(got) != mustJSON(t, want) {
				t.Errorf("%s in the document is %s, want %s (document %s)", a.Path, got, mustJSON(t, want), doc)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
