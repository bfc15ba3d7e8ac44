package sources

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// TestEveryMappableAttributeIsWritten walks storage's attribute tables:
// every attribute the table lets mappings write is accepted as a mapping
// target (one per element type for multi-valued ones), the mapping puts
// the source's value there, and the user or group written to a real
// SQLite store is found by a filter on that attribute. The manager's
// target hands its source key to the engine instead.
func TestEveryMappableAttributeIsWritten(t *testing.T) {
	store, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "mapping.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	// One mapping of every target, each from its own source attribute.
	type target struct {
		name, source, value string
		match               storage.Expr // finds the resource by the mapped value
	}
	var userTargetsWant, groupTargetsWant []target
	add := func(list *[]target, name string, value string, match storage.Expr) {
		*list = append(*list, target{name: name, source: fmt.Sprintf("src%d", len(*list)), value: value, match: match})
	}
	var managerTarget string
	for _, a := range storage.UserAttrs() {
		rule := a.Map
		switch {
		case rule.Target == "":
		case rule.SourceKey:
			managerTarget = rule.Target
			add(&userTargetsWant, rule.Target, "manager-key", nil)
		case a.Type == storage.TypeMulti:
			for _, typ := range rule.Types {
				v := "Mapped-" + rule.Target + "-" + typ
				add(&userTargetsWant, rule.Target+"."+typ, v, storage.ValuePath{Attr: a.Attr, Filter: storage.And{
					Left:  storage.Compare{Attr: storage.SubValue, Op: storage.OpEq, Value: v},
					Right: storage.Compare{Attr: storage.SubType, Op: storage.OpEq, Value: typ},
				}})
			}
		case a.Type == storage.TypeBoolean:
			// "no" is one of the directory spellings; the default is true.
			add(&userTargetsWant, rule.Target, "no", storage.Compare{Attr: a.Attr, Op: storage.OpEq, Value: false})
		default:
			v := "Mapped-" + rule.Target
			add(&userTargetsWant, rule.Target, v, storage.Compare{Attr: a.Attr, Op: storage.OpEq, Value: v})
		}
	}
	for _, a := range storage.GroupAttrs() {
		if a.Map.Target != "" {
			v := "Mapped-" + a.Map.Target
			add(&groupTargetsWant, a.Map.Target, v, storage.Compare{Attr: a.Attr, Op: storage.OpEq, Value: v})
		}
	}
	if len(userTargetsWant) == 0 || len(groupTargetsWant) == 0 || managerTarget == "" {
		t.Fatalf("the tables give %d user targets (manager %q) and %d group targets", len(userTargetsWant), managerTarget, len(groupTargetsWant))
	}
	mapping := func(ts []target) (Mapping, map[string]string) {
		m, attrs := Mapping{}, map[string]string{}
		for _, tg := range ts {
			m[tg.name] = "{" + tg.source + "}"
			attrs[tg.source] = tg.value
		}
		return m, attrs
	}
	userMapping, userAttrs := mapping(userTargetsWant)
	groupMapping, groupAttrs := mapping(groupTargetsWant)
	cm, errs := CompileMappings(userMapping, groupMapping)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}

	u, managerKey, err := cm.MapUser(UserRecord{Attrs: userAttrs})
	if err != nil {
		t.Fatal(err)
	}
	if managerKey != "manager-key" {
		t.Errorf("%s: manager key %q, want manager-key", managerTarget, managerKey)
	}
	// A second user, mapped from nothing but a userName, that no filter
	// may find.
	otherAttrs := map[string]string{}
	for _, tg := range userTargetsWant {
		if tg.name == "userName" {
			otherAttrs[tg.source] = "other"
		}
	}
	other, _, err := cm.MapUser(UserRecord{Attrs: otherAttrs})
	if err != nil {
		t.Fatal(err)
	}
	created, err := store.CreateUsers(t.Context(), []storage.User{other, u})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range userTargetsWant {
		if tg.match == nil {
			continue
		}
		page, err := store.ListUsers(t.Context(), storage.Query{Filter: tg.match, Limit: 10})
		if err != nil {
			t.Errorf("%s: %v", tg.name, err)
			continue
		}
		if page.Total != 1 || len(page.Users) != 1 || page.Users[0].ID != created[1].ID {
			t.Errorf("%s mapped from %q: %d users match, want the mapped one", tg.name, tg.value, page.Total)
		}
	}

	g, err := cm.MapGroup(GroupRecord{Attrs: groupAttrs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateGroup(t.Context(), storage.Group{DisplayName: "other"}); err != nil {
		t.Fatal(err)
	}
	mapped, err := store.CreateGroup(t.Context(), g)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range groupTargetsWant {
		page, err := store.ListGroups(t.Context(), storage.Query{Filter: tg.match, Limit: 10}, false)
		if err != nil {
			t.Errorf("%s: %v", tg.name, err)
			continue
		}
		if page.Total != 1 || len(page.Groups) != 1 || page.Groups[0].ID != mapped.ID {
			t.Errorf("group %s mapped from %q: %d groups match, want the mapped one", tg.name, tg.value, page.Total)
		}
	}
}
