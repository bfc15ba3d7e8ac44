package entra_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

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
func syncOnce(t testing.TB, src sources.Source, cursor []byte) (*sourcetest.Recorder, sources.Result, error) {
	t.Helper()
	rec := &sourcetest.Recorder{}
	res, err := src.Sync(context.Background(), sources.Request{Cursor: cursor}, rec)
	return rec, res, err
}

func mustSync(t testing.TB, src sources.Source, cursor []byte) (*sourcetest.Recorder, sources.Result) {
	t.Helper()
	rec, res, err := syncOnce(t, src, cursor)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if len(rec.Duplicates()) > 0 || len(rec.Got.Problems) > 0 {
		t.Fatalf("sync sent duplicates %v, problems %v", rec.Duplicates(), rec.Got.Problems)
	}
	return rec, res
}

func upn(i int) string { return fmt.Sprintf("user%06d@contoso.example", i) }
