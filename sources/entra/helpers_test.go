package entra_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
)

// recorder is a Sink that keeps what a run sent and, like the engine,
// refuses a key sent twice in one run.
type recorder struct {
	mu        sync.Mutex
	users     map[string]sources.UserRecord
	groups    map[string]sources.GroupRecord
	deletions []sources.Deletion
	problems  []sources.Problem
	dups      []string
	order     []string // "user"/"group" per call, to check users come first
}

func newRecorder() *recorder {
	return &recorder{users: map[string]sources.UserRecord{}, groups: map[string]sources.GroupRecord{}}
}

func (r *recorder) Users(_ context.Context, page []sources.UserRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.order = append(r.order, "user")
	for _, u := range page {
		if _, dup := r.users[u.Key]; dup {
			r.dups = append(r.dups, u.Key)
		}
		r.users[u.Key] = u
	}
	return nil
}

func (r *recorder) Groups(_ context.Context, page []sources.GroupRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.order = append(r.order, "group")
	for _, g := range page {
		if _, dup := r.groups[g.Key]; dup {
			r.dups = append(r.dups, g.Key)
		}
		r.groups[g.Key] = g
	}
	return nil
}

func (r *recorder) Deletions(_ context.Context, d []sources.Deletion) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deletions = append(r.deletions, d...)
	return nil
}

func (r *recorder) Problem(_ context.Context, p sources.Problem) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, p)
	return nil
}

// tenant is an emulator with a fake clock shared by the source.
type tenant struct {
	*graphtest.Server
	clock *graphtest.FakeClock
}

func newTenant(t testing.TB, opts graphtest.Options) *tenant {
	t.Helper()
	clock := graphtest.NewFakeClock()
	if opts.Clock == nil {
		opts.Clock = clock.Now
	}
	em := graphtest.New(opts)
	t.Cleanup(em.Close)
	return &tenant{Server: em, clock: clock}
}

// config is a valid secret configuration pointing at the emulator.
func (tn *tenant) config() *entra.Config {
	return &entra.Config{
		TenantID: tn.TenantID(), ClientID: tn.ClientID(), ClientSecret: tn.ClientSecret(),
		LoginURL: tn.URL(), GraphURL: tn.URL(),
	}
}

// open opens cfg with the tenant's clock.
func (tn *tenant) open(t testing.TB, cfg *entra.Config) sources.Source {
	t.Helper()
	return openWith(t, cfg, sources.Env{Clock: tn.clock})
}

// open opens cfg with the real clock.
func open(t testing.TB, cfg *entra.Config) sources.Source {
	t.Helper()
	return openWith(t, cfg, sources.Env{})
}

func openWith(t testing.TB, cfg *entra.Config, env sources.Env) sources.Source {
	t.Helper()
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	src, err := cfg.Open(env)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// syncOnce runs one Sync into a fresh recorder.
func syncOnce(t testing.TB, src sources.Source, cursor []byte) (*recorder, sources.Result, error) {
	t.Helper()
	rec := newRecorder()
	res, err := src.Sync(context.Background(), sources.Request{Cursor: cursor}, rec)
	return rec, res, err
}

func mustSync(t testing.TB, src sources.Source, cursor []byte) (*recorder, sources.Result) {
	t.Helper()
	rec, res, err := syncOnce(t, src, cursor)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if len(rec.dups) > 0 || len(rec.problems) > 0 {
		t.Fatalf("sync sent duplicates %v, problems %v", rec.dups, rec.problems)
	}
	return rec, res
}

func upn(i int) string { return fmt.Sprintf("user%06d@contoso.example", i) }
