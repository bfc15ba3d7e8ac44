package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// TestConsoleOverviewAttention: held runs come first, then failures,
// for sources and app pushes alike; succeeded runs are not listed.
func TestConsoleOverviewAttention(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	users := e.writeFile(t, "users.csv", usersCSV(0, 2, engineer))
	srcID := e.call(t, "POST", "/api/v1/sources", e.Admin, map[string]any{
		"name": "hr", "kind": "csv", "settings": map[string]any{"usersPath": users},
	}).want(t, 201).str("id")
	appID := e.call(t, "POST", "/api/v1/apps", e.Admin, map[string]any{"name": "crm", "push": goodPush()}).want(t, 201).str("id")

	finish := func(runs storage.RunStore, owner string, status storage.RunStatus, errText string) storage.Run {
		t.Helper()
		r, err := runs.CreateRun(ctx, storage.Run{SourceID: owner, Status: storage.RunRunning, Trigger: "schedule", Queued: e.Store.Now()})
		if err != nil {
			t.Fatal(err)
		}
		r.Status, r.Finished, r.Error = status, e.Store.Now(), errText
		if _, err := runs.FinishRun(ctx, r, false, nil); err != nil {
			t.Fatal(err)
		}
		return r
	}
	finish(e.Store, srcID, storage.RunSucceeded, "")
	failed := finish(e.Pushes.store.PushRuns(), appID, storage.RunFailed, "the target answered 503")
	held := finish(e.Store, srcID, storage.RunHeld, "")

	p := signedIn(t, e).get(t, "/ui/").want(t, http.StatusOK, "Needs attention", "the target answered 503",
		`href="/ui/sources/`+srcID+`/runs/`+held.ID+`"`, `href="/ui/apps/`+appID+`/push/runs/`+failed.ID+`"`)
	section := p.Body[strings.Index(p.Body, "Needs attention"):strings.Index(p.Body, `id="sources-h"`)]
	if h, f := strings.Index(section, "Held for approval"), strings.Index(section, "Failed"); h < 0 || f < 0 || h > f {
		t.Fatalf("want the held run before the failed one:\n%s", section)
	}
	if strings.Count(section, "<li") != 2 {
		t.Fatalf("want exactly the held and the failed run:\n%s", section)
	}
}
