package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api/console/browsertest"
	"github.com/scimgate/scimgate/storage"
)

// TestConsoleRunLiveInBrowser watches a running run's page in Chromium:
// the counts grow with no reload (static/runs.js polling), and when the
// run finishes the page reloads once into the finished run's page. Any
// script error or CSP violation fails it (browsertest).
func TestConsoleRunLiveInBrowser(t *testing.T) {
	b := browsertest.Start(t)
	e := newAPIEnv(t)
	ctx := context.Background()
	id, run := runningRun(t, e)

	browserSignIn(t, b, e)
	b.Navigate(e.URL + "/ui/sources/" + id + "/runs/" + run.ID)
	b.WaitText("No changes yet.")
	if got := b.Text(`[data-count="created"]`); got != "3" {
		t.Fatalf("Created shows %q, want 3", got)
	}

	if _, err := e.Store.UpdateRun(ctx, run.ID, func(r *storage.Run) error { r.Counts.Fetched, r.Counts.Created = 20, 9; return nil }); err != nil {
		t.Fatal(err)
	}
	waitCount(t, b, "created", "9")
	if got := b.Text(`[data-count="fetched"]`); got != "20" {
		t.Fatalf("Fetched shows %q, want 20", got)
	}
	b.WaitText("No changes yet.") // still the same document: no reload

	r, err := e.Store.GetRun(ctx, id, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.Finished = storage.RunSucceeded, e.Store.Now()
	if _, err := e.Store.FinishRun(ctx, r, false, nil); err != nil {
		t.Fatal(err)
	}
	b.WaitText("This run logged no changes.") // only the server's page of a finished run says so
	if got := b.Text("#run-status"); got != "Succeeded" {
		t.Fatalf("status %q after the run, want Succeeded", got)
	}
}

// waitCount waits (up to the browser's step bound) until a run page's
// count shows want.
func waitCount(t *testing.T, b *browsertest.Browser, key, want string) {
	t.Helper()
	deadline := time.Now().Add(b.Wait)
	for {
		got := b.Text(`[data-count="` + key + `"]`)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("count %s shows %q after %v, want %q", key, got, b.Wait, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
