package outbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// dyingTarget passes requests to the real client until its budget of
// creates is spent, then fails every request as a broken connection
// does: the run cannot go on.
type dyingTarget struct {
	outbound.Target
	mu      sync.Mutex
	creates int
}

var errConnection = errors.New("connection reset by peer")

func (d *dyingTarget) Create(ctx context.Context, kind string, body json.RawMessage) (outbound.Remote, error) {
	d.mu.Lock()
	d.creates--
	dead := d.creates < 0
	d.mu.Unlock()
	if dead {
		return outbound.Remote{}, errConnection
	}
	return d.Target.Create(ctx, kind, body)
}

// TestPushResumesAfterFailure: a run that loses the target mid-way fails
// without saving a cursor but keeps what it committed; the next run goes
// on from there, creating nothing twice.
func TestPushResumesAfterFailure(t *testing.T) {
	tests := []struct {
		name    string
		creates int // creates the target takes before it goes away
	}{
		{name: "dies after a few creates", creates: 9},
		{name: "dies at once", creates: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{})
			us := f.users(20, "hal")
			f.group("Team", us[0].ID, us[19].ID)
			ctx := t.Context()
			run, err := f.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: f.app.ID, Status: storage.RunRunning, Trigger: "manual"})
			if err != nil {
				t.Fatal(err)
			}
			out := f.engine.Push(ctx, outbound.PushJob{App: f.app, Run: run, Target: &dyingTarget{Target: f.client, creates: tt.creates}})
			if out.Run.Status != storage.RunFailed || out.SaveCursor || !strings.Contains(out.Run.Error, errConnection.Error()) {
				t.Fatalf("status %s, save cursor %v, error %q: want failed with the connection's error", out.Run.Status, out.SaveCursor, out.Run.Error)
			}
			if out.Run.Counts.Created != tt.creates {
				t.Errorf("failed run counts %s, want %d created", counts(out.Run.Counts), tt.creates)
			}
			if got := len(f.changes(out.Run)); got != tt.creates {
				t.Errorf("failed run logged %d changes, want %d", got, tt.creates)
			}
			if _, err := f.store.PushRuns().FinishRun(ctx, out.Run, out.SaveCursor, nil); err != nil {
				t.Fatal(err)
			}
			f.target.ResetLog()
			next := f.mustRun(outbound.PushJob{})
			if got := f.target.Count("POST", "/Users"); got != 20-tt.creates {
				t.Errorf("next run sent %d POST /Users, want %d", got, 20-tt.creates)
			}
			if got := len(f.target.Users()); got != 20 {
				t.Errorf("%d users in the target, want 20", got)
			}
			if g, ok := f.target.GroupByName("Team"); !ok || len(g.MemberIDs()) != 2 {
				t.Errorf("group Team in the target: %v", g)
			}
			if next.Run.Mode != "full" {
				t.Errorf("the run after a failed first run: mode %q, want full", next.Run.Mode)
			}
		})
	}
}
