package outbound_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/storage"
)

// TestLeaversReachTheTargetSoonAfterTheChange runs the whole push: the
// scheduler, the runner, the real engine and SCIM client, and the target
// emulator over loopback. A user who leaves the view is deactivated in
// the target by the change push, AfterChangeSeconds after the write; a
// mass leave is held until an admin approves it.
func TestLeaversReachTheTargetSoonAfterTheChange(t *testing.T) {
	ctx := context.Background()
	tgt := targettest.New(t, targettest.Options{Token: "s3cret"})
	e := newEnv(t, storage.PushConfig{URL: tgt.URL(), Schedule: "1h", AfterChangeSeconds: 30, Enabled: true,
		Match: []string{"userName"}, Deletion: storage.DeletionLimits{MaxCount: 1}})
	e.runner = outbound.NewRunner(e.store, outbound.NewEngine(e.store, outbound.EngineOptions{}),
		outbound.RunnerOptions{OpenTarget: openClient, Opener: e.sealer})
	t.Cleanup(func() { e.runner.Shutdown(context.Background()) })
	s := e.scheduler()
	ids := map[string]string{}
	for _, name := range []string{"ann@example.com", "bob@example.com", "cy@example.com"} {
		u, err := e.store.CreateUser(ctx, storage.User{UserName: name, Active: true, Owner: "source:hr"})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = u.ID
	}
	active := func() []string {
		var out []string
		for _, u := range tgt.Users() {
			if a, _ := u["active"].(bool); a {
				out = append(out, u.Str("userName"))
			}
		}
		slices.Sort(out)
		return out
	}
	leave := func(names ...string) {
		for _, n := range names {
			if _, err := e.store.UpdateUser(ctx, ids[n], func(u *storage.User) error { u.Active = false; return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}

	if got := e.tick(t, s); !slices.Equal(got, []string{"schedule"}) {
		t.Fatalf("first tick: %v", got)
	}
	if got := active(); !slices.Equal(got, []string{"ann@example.com", "bob@example.com", "cy@example.com"}) {
		t.Fatalf("active in the target after the first push: %v", got)
	}

	e.clock.Advance(time.Minute)
	leave("bob@example.com")
	e.clock.Advance(29 * time.Second)
	if got := e.tick(t, s); got != nil {
		t.Fatalf("pushed before the debounce: %v", got)
	}
	e.clock.Advance(time.Second)
	if got := e.tick(t, s); !slices.Equal(got, []string{"change"}) {
		t.Fatalf("after the debounce: %v", got)
	}
	if got := active(); !slices.Equal(got, []string{"ann@example.com", "cy@example.com"}) {
		t.Errorf("active after bob left: %v", got)
	}

	// Two leavers at once pass the limit of one: held, then approved.
	e.clock.Advance(time.Minute)
	leave("ann@example.com", "cy@example.com")
	e.clock.Advance(30 * time.Second)
	if got := e.tick(t, s); !slices.Equal(got, []string{"change"}) {
		t.Fatalf("mass leave: %v", got)
	}
	runs, err := e.store.PushRuns().ListRuns(ctx, e.app.ID, 1)
	if err != nil || runs[0].Status != storage.RunHeld || runs[0].Counts.Pending != 2 {
		t.Fatalf("mass leave run: %+v %v", runs, err)
	}
	if got := active(); len(got) != 2 {
		t.Errorf("a held push changed the target: active %v", got)
	}
	e.clock.Advance(time.Minute)
	if got := e.tick(t, s); got != nil {
		t.Errorf("pushed while held: %v", got)
	}
	queued, err := e.runner.Approve(ctx, e.app.ID, runs[0].ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if done := e.wait(t, e.runner, queued.ID); done.Status != storage.RunSucceeded || done.DecidedBy != "alice" {
		t.Errorf("approved run: %+v", done)
	}
	if got := active(); len(got) != 0 {
		t.Errorf("active after the approval: %v", got)
	}
	if n := len(tgt.Users()); n != 3 {
		t.Errorf("%d users in the target, want the 3 pushed, none duplicated", n)
	}
	e.clock.Advance(time.Minute)
	if got := e.tick(t, s); got != nil {
		t.Errorf("nothing changed since the approved push, yet started %v", got)
	}
}
