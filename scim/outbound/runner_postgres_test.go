package outbound_test

import (
	"context"
	"errors"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// TestPostgresReplicasPushAnAppOneAtATime runs two replicas, each with its
// own connection pool on one PostgreSQL database: the app's push lease
// lets only one push it at a time, and the other's run-now says which run
// is in progress.
func TestPostgresReplicasPushAnAppOneAtATime(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	e := newEnvAt(t, dsn, storage.PushConfig{})
	ctx := context.Background()
	other := outbound.NewRunner(e.openStore(t, dsn), e.pusher, outbound.RunnerOptions{
		Opener: e.sealer, OpenTarget: func(context.Context, storage.App, map[string]string) (outbound.Target, error) {
			return nopTarget{}, nil
		}})
	t.Cleanup(func() { other.Shutdown(context.Background()) })

	e.pusher.gate, e.pusher.started = make(chan struct{}), make(chan string, 1)
	run, err := e.runner.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	<-e.pusher.started
	_, err = other.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	var busy *outbound.BusyError
	if !errors.As(err, &busy) || busy.RunID != run.ID {
		t.Fatalf("the other replica's Start = %v, want a BusyError naming %s", err, run.ID)
	}
	if _, err := other.Approve(ctx, e.app.ID, run.ID, "alice"); !errors.As(err, &busy) {
		t.Errorf("the other replica's Approve = %v, want a BusyError", err)
	}
	close(e.pusher.gate)
	if got := e.wait(t, e.runner, run.ID); got.Status != storage.RunSucceeded {
		t.Fatalf("push = %+v", got)
	}
	e.pusher.gate = nil
	next, err := other.Start(ctx, e.app.ID, outbound.Trigger{Reason: "manual"})
	if err != nil {
		t.Fatalf("the other replica after the push: %v", err)
	}
	if got := e.wait(t, other, next.ID); got.Status != storage.RunSucceeded {
		t.Errorf("the other replica's push = %+v", got)
	}
}
