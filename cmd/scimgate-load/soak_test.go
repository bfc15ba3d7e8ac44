package main

import (
	"strings"
	"testing"
	"time"
)

// soakOkta, when set, names a pending fix that Okta runs need to pass
// here; an Okta run failure is then logged, not failed. Empty: no Okta
// run failed under this soak's throttling before the 429 fix of issue 13
// (the client paces itself under its budgets and met no 429).
const soakOkta = ""

// TestSoakShort is the soak's short version: 15 s of 32 clients while the
// three sources sync every 3 s. Every must-be-zero figure is asserted.
func TestSoakShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scimgate and runs it for 15 s")
	}
	dir := t.TempDir()
	bin, err := buildScimgate(t.Context(), dir, raceEnabled)
	if err != nil {
		t.Fatal(err)
	}
	o := soakOptions{duration: 15 * time.Second, syncEvery: 3 * time.Second, clients: 32, users: 100, scimgate: bin}
	var log strings.Builder
	fig, err := soak(t.Context(), o, &log)
	printFigures(&log, o, fig)
	t.Log("\n" + log.String())
	if fig.requests == 0 || fig.acknowledged == 0 {
		t.Fatalf("the clients did nothing (err %v)", err)
	}
	if fig.serverExit != nil {
		t.Errorf("scimgate did not exit cleanly: %v; its warnings and errors:\n%s", fig.serverExit, fig.serverLog)
	}
	if fig.serverErrors != 0 {
		t.Errorf("%d answers were 5xx (first: %s)", fig.serverErrors, fig.firstBad)
	}
	if fig.found != fig.acknowledged {
		t.Errorf("%d of %d acknowledged writes not found (first: %s)", fig.acknowledged-fig.found, fig.acknowledged, fig.firstMissing)
	}
	for _, kind := range []string{"csv", "entra", "okta"} {
		if fig.runs[kind]["succeeded"]+fig.runs[kind]["running"]+fig.runs[kind]["failed"] == 0 {
			t.Errorf("no %s runs: %v", kind, fig.runs[kind])
		}
		n := fig.runFailures(kind)
		switch {
		case n == 0:
		case kind == "okta" && soakOkta != "":
			t.Logf("pendingFix %q: %d okta runs failed (first: %s)", soakOkta, n, fig.runErrors[kind])
		default:
			t.Errorf("%d %s runs failed (first: %s)", n, kind, fig.runErrors[kind])
		}
	}
	for _, kind := range []string{"csv", "entra"} {
		if fig.runs[kind]["succeeded"] == 0 {
			t.Errorf("no %s run succeeded: %v", kind, fig.runs[kind])
		}
	}
}
