package engine_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// TestLinkProperty runs random directories through the engine and
// compares the result with a model computed naively from the rules:
// records that share a link key's value (folded) across sources are one
// person (connected records), and each person is MergeUser of its records.
// Then some records leave and one source's records change keys, and the
// result is compared with the model of what is left.
//
// The rules decide record by record, so a record that would join two
// people formed without it is a conflict when it arrives (a1 -k1- b1 -k2-
// c1 with A and C run first: b1 is a person of its own), and the people
// come together on the next round (a1 and c1, each alone, then join b1's
// person). So the property is: after running every source until a round
// changes nothing (at most three rounds), the directory equals the model,
// whatever order the sources run in (people compared as sets of records,
// with their merged documents). The generator keeps to directories where
// that holds: a key value appears at most once per source (two records of
// one source on a key are a conflict the model does not merge), and a
// person has at most one record per source (a person never has two
// contributions of one source). Beyond that, with two established people
// of several records each, a late bridge between them stays a conflict
// for good and the outcome depends on the order: the rules say so, and the
// model does not try to.
func TestLinkProperty(t *testing.T) {
	scenarios := 10
	if testing.Short() {
		scenarios = 3
	}
	orders := [][]string{{"s0", "s1", "s2"}, {"s0", "s2", "s1"}, {"s1", "s0", "s2"}, {"s1", "s2", "s0"}, {"s2", "s0", "s1"}, {"s2", "s1", "s0"}}
	for i := range scenarios {
		sc := genScenario(rand.New(rand.NewPCG(uint64(i), 18)))
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var first map[string]mergedDoc
			for oi, order := range orders {
				if testing.Short() && oi%2 == 1 {
					continue
				}
				e := sc.env(t)
				got := settle(t, e, sc, order)
				if first != nil && !reflect.DeepEqual(got, first) {
					t.Fatalf("order %v: %v, the first order made %v", order, got, first)
				}
				first = got
				// Then some records leave (their people lose them, or go
				// with their last record) and one source's records change
				// keys (links break and are made).
				after := sc.then()
				for _, ls := range after.sources {
					e.ds[ls.name].SetUsers(after.records[ls.name]...)
				}
				settle(t, e, after, order)
			}
		})
	}
}

// settle runs the sources in order until a round changes nothing (at most
// three rounds) and checks the directory against the model.
func settle(t *testing.T, e *linkEnv, sc propScenario, order []string) map[string]mergedDoc {
	t.Helper()
	settled := false
	for round := 0; round < 3 && !settled; round++ {
		settled = true
		for _, name := range order {
			if changedSomething(e.run(t, name).Counts) {
				settled = false
			}
		}
	}
	if !settled {
		t.Errorf("order %v: still changing after three rounds", order)
	}
	got := e.directory(t)
	if want := sc.model(e); !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v:\n got  %v\n want %v\nscenario %+v", order, got, want, sc)
	}
	return got
}

func changedSomething(c storage.RunCounts) bool {
	return c.Created+c.Updated+c.Deactivated+c.Deleted+c.Linked+c.Unlinked+c.Left > 0
}

// propScenario is a random directory of three sources, and what it
// becomes: some records leave, and one source's records change keys.
type propScenario struct {
	sources []linkSource
	keys    map[string][]string // by source: the link keys it declares
	records map[string][]sources.UserRecord
	next    map[string][]sources.UserRecord
}

// then is the directory the scenario becomes.
func (sc propScenario) then() propScenario {
	out := sc
	out.records, out.next = sc.next, nil
	return out
}

var propKeyNames = []string{"k1", "k2"}

func genScenario(r *rand.Rand) propScenario {
	for {
		sc := propScenario{keys: map[string][]string{}, records: map[string][]sources.UserRecord{}, next: map[string][]sources.UserRecord{}}
		// Distinct precedences: a tie goes to the smaller source id, and
		// each order's store names the sources anew.
		precedence := r.Perm(3)
		rekeyed := fmt.Sprintf("s%d", r.IntN(3))
		for s := range 3 {
			name := fmt.Sprintf("s%d", s)
			ls := linkSource{name: name, precedence: 10 * (1 + precedence[s]), link: map[string]string{},
				deletion: storage.DeletionPolicy{Policy: storage.PolicyDelete}}
			for _, k := range propKeyNames {
				if r.IntN(4) > 0 {
					ls.link[k] = "{" + k + "}"
					sc.keys[name] = append(sc.keys[name], k)
				}
			}
			if len(ls.link) == 0 {
				ls.link["k1"] = "{k1}"
				sc.keys[name] = []string{"k1"}
			}
			if r.IntN(3) == 0 {
				ls.authoritative = []string{"title"}
			}
			sc.sources = append(sc.sources, ls)
			keys, nextKeys := propKeys(r), propKeys(r)
			for i := range 1 + r.IntN(4) {
				attrs := []string{"displayName", pick(r, "", "Ann", "Bo"), "title", pick(r, "", "Dev", "Ops"),
					"department", pick(r, "", "R&D", "Sales")}
				key := fmt.Sprintf("%s-%d", name, i)
				sc.records[name] = append(sc.records[name], sourcetest.User(key, key+"@example.com", append(attrs, keys(r, i)...)...))
				switch {
				case r.IntN(4) == 0: // it leaves
				case name == rekeyed:
					sc.next[name] = append(sc.next[name], sourcetest.User(key, key+"@example.com", append(attrs, nextKeys(r, i)...)...))
				default:
					sc.next[name] = append(sc.next[name], sc.records[name][i])
				}
			}
		}
		if sc.onePerSource() && sc.then().onePerSource() {
			return sc
		}
	}
}

// propKeys returns the link key attributes of one source's i-th record:
// each key's values are a permutation of a small domain, one left out, so
// that no value is twice in one source and values collide across sources;
// case and spaces vary, as folding ignores them.
func propKeys(r *rand.Rand) func(r *rand.Rand, i int) []string {
	values := map[string][]int{}
	for _, k := range propKeyNames {
		values[k] = r.Perm(4)
	}
	return func(r *rand.Rand, i int) []string {
		var attrs []string
		for _, k := range propKeyNames {
			if v := values[k][i]; v < 3 { // 3: no value
				attrs = append(attrs, k, pick(r, "v", " V")+fmt.Sprint(v))
			}
		}
		return attrs
	}
}

func pick(r *rand.Rand, options ...string) string { return options[r.IntN(len(options))] }

// propRecord is a record with its source, as the model sees it.
type propRecord struct {
	source string
	rec    sources.UserRecord
	keys   []storage.LinkKey
}

// all returns every record with its link keys, computed naively.
func (sc propScenario) all() []propRecord {
	var out []propRecord
	for _, ls := range sc.sources {
		for _, rec := range sc.records[ls.name] {
			pr := propRecord{source: ls.name, rec: rec}
			for _, k := range sc.keys[ls.name] {
				if v := storage.FoldLinkValue(rec.Attrs[k]); v != "" {
					pr.keys = append(pr.keys, storage.LinkKey{Name: k, Value: v})
				}
			}
			out = append(out, pr)
		}
	}
	return out
}

// people groups the records into connected components.
func (sc propScenario) people() [][]propRecord {
	all := sc.all()
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	holder := map[storage.LinkKey]int{}
	for i, pr := range all {
		for _, k := range pr.keys {
			if j, ok := holder[k]; ok {
				parent[find(i)] = find(j)
			} else {
				holder[k] = i
			}
		}
	}
	groups := map[int][]propRecord{}
	for i, pr := range all {
		groups[find(i)] = append(groups[find(i)], pr)
	}
	var out [][]propRecord
	for _, g := range groups {
		out = append(out, g)
	}
	return out
}

func (sc propScenario) onePerSource() bool {
	for _, g := range sc.people() {
		seen := map[string]bool{}
		for _, pr := range g {
			if seen[pr.source] {
				return false
			}
			seen[pr.source] = true
		}
	}
	return true
}

func (sc propScenario) env(t *testing.T) *linkEnv {
	t.Helper()
	e := newLinkEnv(t, sc.sources...)
	for name, recs := range sc.records {
		e.ds[name].SetUsers(recs...)
	}
	return e
}

// mergedDoc is what the property compares of a person: the attributes
// the fake source maps.
type mergedDoc struct {
	UserName, ExternalID, DisplayName, Title, Department string
	Active                                               bool
}

func docOf(u storage.User) mergedDoc {
	d := mergedDoc{UserName: u.UserName, ExternalID: u.ExternalID, DisplayName: u.DisplayName, Title: u.Title, Active: u.Active}
	if u.Enterprise != nil {
		d.Department = u.Enterprise.Department
	}
	return d
}

// directory is the engine's result: each person's records ("source/key"
// joined by "+") and merged document.
func (e *linkEnv) directory(t *testing.T) map[string]mergedDoc {
	t.Helper()
	out := map[string]mergedDoc{}
	for _, p := range e.people(t) {
		out[strings.Join(p.records, "+")] = docOf(p.user)
	}
	return out
}

// model is the directory computed from the rules, without the engine:
// the components, each merged with MergeUser from the records as the
// source's mapping maps them.
func (sc propScenario) model(e *linkEnv) map[string]mergedDoc {
	byName := map[string]linkSource{}
	for _, ls := range sc.sources {
		byName[ls.name] = ls
	}
	out := map[string]mergedDoc{}
	for _, g := range sc.people() {
		var in []storage.MergeInput
		var names []string
		for _, pr := range g {
			kind := e.reg[pr.source]
			cm, errs := sources.CompileMappings(kind.UserMapping, kind.GroupMapping)
			if len(errs) > 0 {
				panic(fmt.Sprint(errs))
			}
			u, _, err := cm.MapUser(pr.rec)
			if err != nil {
				panic(err)
			}
			ls := byName[pr.source]
			in = append(in, storage.MergeInput{Source: e.src[pr.source].ID, Precedence: ls.precedence,
				Authoritative: ls.authoritative, Record: &u})
			names = append(names, pr.source+"/"+pr.rec.Key)
		}
		slices.Sort(names)
		merged, _ := storage.MergeUser(in)
		out[strings.Join(names, "+")] = docOf(merged)
	}
	return out
}
