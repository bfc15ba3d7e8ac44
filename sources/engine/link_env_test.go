package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// linkEnv is a runner over a real SQLite store with several in-process
// sources, each with a dataset of its own.
type linkEnv struct {
	store  *sqlstore.Store
	runner *engine.Runner
	now    time.Time
	ds     map[string]*sourcetest.Dataset // by source name
	src    map[string]storage.Source      // by source name
	reg    sources.Registry
	names  []string
}

// linkSource is one source of a linkEnv: its name is also its kind's.
type linkSource struct {
	name          string
	precedence    int
	link          map[string]string
	authoritative []string
	deletion      storage.DeletionPolicy
}

func newLinkEnv(t *testing.T, srcs ...linkSource) *linkEnv {
	t.Helper()
	return newLinkEnvOn(t, filepath.Join(t.TempDir(), "link.db"), srcs...)
}

// linkBackends are the databases the linking tests run on: SQLite, and
// PostgreSQL when SCIMGATE_TEST_POSTGRES names a server (skipped
// otherwise); each returns a fresh database's DSN.
var linkBackends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "link.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.FreshSchema(t) }},
}

// newLinkEnvOn is newLinkEnv on the database dsn names.
func newLinkEnvOn(t *testing.T, dsn string, srcs ...linkSource) *linkEnv {
	t.Helper()
	ctx := context.Background()
	e := &linkEnv{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		ds: map[string]*sourcetest.Dataset{}, src: map[string]storage.Source{}, reg: sources.Registry{}}
	store, err := sqlstore.Open(ctx, dsn, sqlstore.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	for _, s := range srcs {
		e.ds[s.name] = &sourcetest.Dataset{}
		e.reg[s.name] = sourcetest.Kind(e.ds[s.name])
	}
	sealer, err := engine.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.runner = engine.NewRunner(store, e.reg, sealer, engine.RunnerOptions{BatchSize: 3})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	for _, s := range srcs {
		if s.deletion.Policy == "" {
			s.deletion = storage.DeletionPolicy{Policy: storage.PolicyDeactivate}
		}
		created, err := store.CreateSource(ctx, storage.Source{Name: s.name, Kind: s.name, Enabled: true,
			Settings: []byte(`{"region":"eu"}`), Deletion: s.deletion, Precedence: s.precedence,
			Link: s.link, Authoritative: s.authoritative})
		if err != nil {
			t.Fatal(err)
		}
		e.src[s.name] = created
		e.names = append(e.names, s.name)
	}
	return e
}

// env is the single-source view of one source, for env's helpers.
func (e *linkEnv) env(name string) *env {
	return &env{store: e.store, ds: e.ds[name], runner: e.runner, src: e.src[name], now: e.now}
}

// run runs a source fully and expects it to succeed.
func (e *linkEnv) run(t *testing.T, name string) storage.Run {
	t.Helper()
	r := e.env(name).run(t, engine.Trigger{Full: true})
	wantStatus(t, r, storage.RunSucceeded)
	return r
}

// person is a user as the linking tests compare them.
type person struct {
	user storage.User
	// records are the contributions, as "source/key", sorted.
	records []string
}

// people returns every user, by userName, with its contributions.
func (e *linkEnv) people(t *testing.T) map[string]person {
	t.Helper()
	ctx := context.Background()
	users := e.env(e.names[0]).users(t)
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	refs, err := e.store.ContributionsOf(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for name, s := range e.src {
		byID[s.ID] = name
	}
	out := map[string]person{}
	for name, u := range users {
		p := person{user: u}
		for _, r := range refs[u.ID] {
			p.records = append(p.records, byID[r.Source]+"/"+r.Key)
		}
		slices.Sort(p.records)
		out[name] = p
	}
	return out
}

// shape is the directory as sets of records: one line per person, its
// records joined by "+", lines sorted.
func (e *linkEnv) shape(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range e.people(t) {
		out = append(out, strings.Join(p.records, "+"))
	}
	slices.Sort(out)
	return out
}

// changes returns a run's change log.
func (e *linkEnv) changes(t *testing.T, r storage.Run) []storage.Change {
	t.Helper()
	out, _, err := e.store.ListChanges(context.Background(), r.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changesOf returns the entries of a run's change log with action.
func (e *linkEnv) changesOf(t *testing.T, r storage.Run, action string) []storage.Change {
	t.Helper()
	var out []storage.Change
	for _, c := range e.changes(t, r) {
		if c.Action == action {
			out = append(out, c)
		}
	}
	return out
}
