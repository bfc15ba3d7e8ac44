package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// attrCase is one resource type's attribute table, walked by
// TestEveryAttributeThroughSCIM over two resources in a real SQLite
// store: "a" has every attribute of the table, "b" (created first, so
// creation order alone puts it first) only the required ones, with values
// that sort after a's.
type attrCase[R storage.Resource] struct {
	endpoint string
	attrs    []storage.AttrSpec[R]
	// seed creates b, then a; it returns both as stored.
	seed func(t *testing.T, store *sqlstore.Store, fill func(r *R, prefix string, all bool)) (a, b R)
	id   func(r *R) string
}

// TestEveryAttributeThroughSCIM walks storage's attribute tables: every
// entry is filterable through the SCIM endpoint by its SCIM path (eq with
// its case rule, pr, every sub-attribute of a multi-valued one), sortable
// in both directions where the table says so, and refused as sortBy where
// it does not.
func TestEveryAttributeThroughSCIM(t *testing.T) {
	t.Run("Users", func(t *testing.T) {
		walkAttrs(t, attrCase[storage.User]{
			endpoint: "/Users",
			attrs:    storage.UserAttrs(),
			seed: func(t *testing.T, store *sqlstore.Store, fill func(*storage.User, string, bool)) (a, b storage.User) {
				var err error
				b = storage.User{Active: true}
				fill(&b, "b", false)
				if b, err = store.CreateUser(t.Context(), b); err != nil {
					t.Fatal(err)
				}
				a = storage.User{Active: true}
				fill(&a, "a", true)
				if a, err = store.CreateUser(t.Context(), a); err != nil {
					t.Fatal(err)
				}
				return a, b
			},
			id: func(u *storage.User) string { return u.ID },
		})
	})
	t.Run("Groups", func(t *testing.T) {
		walkAttrs(t, attrCase[storage.Group]{
			endpoint: "/Groups",
			attrs:    storage.GroupAttrs(),
			seed: func(t *testing.T, store *sqlstore.Store, fill func(*storage.Group, string, bool)) (a, b storage.Group) {
				member, err := store.CreateUser(t.Context(), storage.User{UserName: "member", Active: true})
				if err != nil {
					t.Fatal(err)
				}
				fill(&b, "b", false)
				if b, err = store.CreateGroup(t.Context(), b); err != nil {
					t.Fatal(err)
				}
				fill(&a, "a", true)
				a.Members = []storage.Member{{Value: member.ID, Type: storage.MemberUser}}
				if a, err = store.CreateGroup(t.Context(), a); err != nil {
					t.Fatal(err)
				}
				return a, b
			},
			id: func(g *storage.Group) string { return g.ID },
		})
	})
}

func walkAttrs[R storage.Resource](t *testing.T, c attrCase[R]) {
	// The clock moves on a second per read, so b and a differ in their
	// date-times (a is later).
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "attrs.db"), sqlstore.Options{
		Now: func() time.Time { clock = clock.Add(time.Second); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// fill gives r a value for every string and multi-valued attribute
	// (all), or only for the required ones; the store assigns id and the
	// date-times. Values are mixed case, to tell the case rules apart.
	fill := func(r *R, prefix string, all bool) {
		for _, a := range c.attrs {
			if a.Attr == storage.AttrID || (!all && !a.Required) {
				continue
			}
			switch a.Type {
			case storage.TypeString:
				a.SetString(r, prefix+"-Val-"+string(a.Attr))
			case storage.TypeBoolean:
				a.SetBool(r, !all) // a false, b true: false sorts first
			case storage.TypeMulti:
				a.AddElement(r, storage.MultiValue{Value: prefix + "-Val-" + string(a.Attr), Type: "Work", Display: "Disp-" + string(a.Attr), Primary: true})
			}
		}
	}
	a, b := c.seed(t, store, fill)
	srv, err := scim.New(store, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	list := func(t *testing.T, query url.Values) (int, []string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, scim.Prefix+c.endpoint+"?"+query.Encode(), nil)
		req = req.WithContext(scim.WithCaller(req.Context(), scim.Caller{Owner: "scim:reader"}))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var body struct {
			Resources []struct{ ID string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q: %v", query, rec.Body, err)
		}
		ids := make([]string, len(body.Resources))
		for i, r := range body.Resources {
			ids[i] = r.ID
		}
		return rec.Code, ids
	}
	aID, bID := c.id(&a), c.id(&b)
	name := map[string]string{aID: "a", bID: "b"}
	expect := func(t *testing.T, query url.Values, want ...string) {
		t.Helper()
		status, ids := list(t, query)
		got := make([]string, len(ids))
		for i, id := range ids {
			got[i] = name[id]
		}
		if status != http.StatusOK || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%v: %d %v, want 200 %v", query, status, got, want)
		}
	}
	filter := func(f string) url.Values { return url.Values{"filter": {f}} }
	for _, attr := range c.attrs {
		path := attr.Path
		if attr.Schema != "" {
			path = attr.Schema + ":" + attr.Path
		}
		t.Run(string(attr.Attr), func(t *testing.T) {
			present := []string{"a"}
			if attr.Required {
				present = []string{"b", "a"}
			}
			expect(t, filter(path+" pr"), present...)
			switch attr.Type {
			case storage.TypeString:
				v := attr.String(&a)
				expect(t, filter(fmt.Sprintf("%s eq %q", path, v)), "a")
				if attr.CaseExact {
					expect(t, filter(fmt.Sprintf("%s eq %q", path, strings.ToUpper(v))))
				} else {
					expect(t, filter(fmt.Sprintf("%s eq %q", path, strings.ToUpper(v))), "a")
				}
			case storage.TypeBoolean:
				expect(t, filter(path+" eq false"), "a")
				expect(t, filter(path+" eq true"), "b")
			case storage.TypeDateTime:
				at := attr.Time(&a).Format(time.RFC3339Nano)
				expect(t, filter(fmt.Sprintf("%s eq %q", path, at)), "a")
				expect(t, filter(fmt.Sprintf("%s lt %q", path, at)), "b")
			case storage.TypeMulti:
				for _, sub := range attr.Values.Subs {
					v := subValue(t, attr, sub, &a)
					expect(t, filter(fmt.Sprintf("%s[%s eq %s]", path, sub.Attr, v)), "a")
				}
			}
			sorted := func(desc bool) url.Values {
				q := url.Values{"sortBy": {path}}
				if desc {
					q.Set("sortOrder", "descending")
				}
				return q
			}
			if !attr.Sortable {
				if status, _ := list(t, sorted(false)); status != http.StatusBadRequest {
					t.Errorf("sortBy %s: %d, want 400", path, status)
				}
				return
			}
			// b lacks what is not required, and missing values sort last
			// in both directions; else a's value sorts first, except that
			// a was created later.
			switch {
			case !attr.Required:
				expect(t, sorted(false), "a", "b")
				expect(t, sorted(true), "a", "b")
			case attr.Type == storage.TypeDateTime || attr.Attr == storage.AttrID && aID > bID:
				expect(t, sorted(false), "b", "a")
				expect(t, sorted(true), "a", "b")
			default:
				expect(t, sorted(false), "a", "b")
				expect(t, sorted(true), "b", "a")
			}
		})
	}
}

// subValue is the SCIM literal of the sub-attribute sub of r's first
// element of the multi-valued attr.
func subValue[R storage.Resource](t *testing.T, attr storage.AttrSpec[R], sub storage.SubAttr, r *R) string {
	if g, ok := any(r).(*storage.Group); ok {
		// Members are not MultiValues: the one member is a user.
		switch sub.Attr {
		case storage.SubValue:
			return fmt.Sprintf("%q", g.Members[0].Value)
		case storage.SubType:
			return `"User"`
		}
		t.Fatalf("no value for %s.%s", attr.Attr, sub.Attr)
	}
	e := attr.Elements(r)[0]
	switch sub.Attr {
	case storage.SubValue:
		return fmt.Sprintf("%q", e.Value)
	case storage.SubType:
		return fmt.Sprintf("%q", e.Type)
	case storage.SubDisplay:
		return fmt.Sprintf("%q", e.Display)
	case storage.SubPrimary:
		return fmt.Sprint(e.Primary)
	}
	t.Fatalf("no value for %s.%s", attr.Attr, sub.Attr)
	return ""
}
