package storetest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var consoleSessionTests = []subtest{
	{"CreateGet", testConsoleSessionCreateGet},
	{"Conflict", testConsoleSessionConflict},
	{"TouchNeverMovesBack", testConsoleSessionTouch},
	{"Delete", testConsoleSessionDelete},
	{"DeleteOfToken", testConsoleSessionsOfToken},
	{"ExpirySweep", testConsoleSessionExpiry},
	{"DeleteTokenEndsSessions", testDeleteTokenEndsSessions},
}

// sessionEpoch is when the suite's sessions start: a fixed instant with a
// sub-millisecond part, which a store may drop.
var sessionEpoch = viewEpoch.Add(1500 * time.Microsecond)

// consoleSession builds a session whose cookie value is "cookie-"+name,
// started at created and ending 12 hours later.
func consoleSession(name, tokenID string, created time.Time) storage.ConsoleSession {
	return storage.ConsoleSession{
		Hash: sessionHash(name), TokenID: tokenID, Actor: "actor-of-" + tokenID,
		CSRF: "csrf-of-" + name, Created: created, LastSeen: created, Expires: created.Add(12 * time.Hour),
	}
}

func sessionHash(name string) []byte {
	sum := sha256.Sum256([]byte("cookie-" + name))
	return sum[:]
}

func mustCreateConsoleSession(t *testing.T, s storage.Store, cs storage.ConsoleSession) {
	t.Helper()
	if err := s.CreateConsoleSession(ctx(t), cs); err != nil {
		t.Fatalf("CreateConsoleSession(%s): %v", cs.CSRF, err)
	}
}

// within a millisecond: a store may keep times at that resolution.
func sameMillisecond(a, b time.Time) bool { return a.Sub(b).Abs() < time.Millisecond }

// checkConsoleSession reads the session with want's hash and compares it.
func checkConsoleSession(t *testing.T, what string, s storage.Store, want storage.ConsoleSession) {
	t.Helper()
	got, err := s.GetConsoleSession(ctx(t), want.Hash)
	if err != nil {
		t.Fatalf("%s: GetConsoleSession: %v", what, err)
	}
	if !bytes.Equal(got.Hash, want.Hash) || got.TokenID != want.TokenID || got.Actor != want.Actor || got.CSRF != want.CSRF ||
		!sameMillisecond(got.Created, want.Created) || !sameMillisecond(got.LastSeen, want.LastSeen) ||
		!sameMillisecond(got.Expires, want.Expires) {
		t.Errorf("%s: GetConsoleSession =\n %+v\nwant\n %+v", what, got, want)
	}
}

// wantSessions checks which of the named sessions remain.
func wantSessions(t *testing.T, what string, s storage.Store, all, remaining []string) {
	t.Helper()
	var got []string
	for _, name := range all {
		_, err := s.GetConsoleSession(ctx(t), sessionHash(name))
		if err == nil {
			got = append(got, name)
			continue
		}
		wantErr(t, what+": GetConsoleSession("+name+")", err, storage.ErrNotFound)
	}
	if !slices.Equal(got, remaining) {
		t.Errorf("%s: sessions left %v, want %v", what, got, remaining)
	}
}

func testConsoleSessionCreateGet(t *testing.T, s storage.Store) {
	_, err := s.GetConsoleSession(ctx(t), sessionHash("none"))
	wantErr(t, "GetConsoleSession on an empty store", err, storage.ErrNotFound)
	sessions := []storage.ConsoleSession{
		consoleSession("a", "tok111111111", sessionEpoch),
		consoleSession("b", "bootstrap", sessionEpoch.Add(time.Minute)),
	}
	sessions[1].Expires = sessionEpoch.Add(time.Hour) // each field kept apart
	sessions[1].LastSeen = sessionEpoch.Add(2 * time.Minute)
	for _, cs := range sessions {
		mustCreateConsoleSession(t, s, cs)
	}
	for _, cs := range sessions {
		checkConsoleSession(t, "after create", s, cs)
	}
	_, err = s.GetConsoleSession(ctx(t), sessionHash("c"))
	wantErr(t, "GetConsoleSession(unknown)", err, storage.ErrNotFound)
}

func testConsoleSessionConflict(t *testing.T, s storage.Store) {
	first := consoleSession("a", "tok111111111", sessionEpoch)
	mustCreateConsoleSession(t, s, first)
	dup := consoleSession("a", "tok222222222", sessionEpoch.Add(time.Hour))
	dup.CSRF = "another"
	wantErr(t, "CreateConsoleSession with a taken hash", s.CreateConsoleSession(ctx(t), dup), storage.ErrConflict)
	checkConsoleSession(t, "after the refused duplicate", s, first)
}

func testConsoleSessionTouch(t *testing.T, s storage.Store) {
	cs := consoleSession("a", "tok111111111", sessionEpoch)
	other := consoleSession("b", "tok111111111", sessionEpoch)
	mustCreateConsoleSession(t, s, cs)
	mustCreateConsoleSession(t, s, other)
	for _, step := range []struct {
		name     string
		at, want time.Time
	}{
		{"later", sessionEpoch.Add(time.Minute), sessionEpoch.Add(time.Minute)},
		{"earlier", sessionEpoch.Add(30 * time.Second), sessionEpoch.Add(time.Minute)},
		{"same", sessionEpoch.Add(time.Minute), sessionEpoch.Add(time.Minute)},
		{"before created", sessionEpoch.Add(-time.Hour), sessionEpoch.Add(time.Minute)},
		{"later again", sessionEpoch.Add(time.Hour), sessionEpoch.Add(time.Hour)},
	} {
		if err := s.TouchConsoleSession(ctx(t), cs.Hash, step.at); err != nil {
			t.Fatalf("TouchConsoleSession(%s): %v", step.name, err)
		}
		want := cs
		want.LastSeen = step.want
		checkConsoleSession(t, "after touch "+step.name, s, want)
	}
	checkConsoleSession(t, "the session not touched", s, other)
	wantErr(t, "TouchConsoleSession(unknown)",
		s.TouchConsoleSession(ctx(t), sessionHash("none"), sessionEpoch.Add(time.Hour)), storage.ErrNotFound)
}

func testConsoleSessionDelete(t *testing.T, s storage.Store) {
	all := []string{"a", "b"}
	for _, name := range all {
		mustCreateConsoleSession(t, s, consoleSession(name, "tok111111111", sessionEpoch))
	}
	if err := s.DeleteConsoleSession(ctx(t), sessionHash("a")); err != nil {
		t.Fatalf("DeleteConsoleSession(a): %v", err)
	}
	wantSessions(t, "after deleting a", s, all, []string{"b"})
	wantErr(t, "DeleteConsoleSession twice", s.DeleteConsoleSession(ctx(t), sessionHash("a")), storage.ErrNotFound)
	wantErr(t, "TouchConsoleSession(deleted)",
		s.TouchConsoleSession(ctx(t), sessionHash("a"), sessionEpoch.Add(time.Hour)), storage.ErrNotFound)
	wantErr(t, "DeleteConsoleSession(unknown)", s.DeleteConsoleSession(ctx(t), sessionHash("none")), storage.ErrNotFound)
	wantSessions(t, "after the refused deletes", s, all, []string{"b"})
}

func testConsoleSessionsOfToken(t *testing.T, s storage.Store) {
	all := []string{"a1", "a2", "b1", "boot"}
	tokenOf := map[string]string{"a1": "tokaaaaaaaaa", "a2": "tokaaaaaaaaa", "b1": "tokbbbbbbbbb", "boot": "bootstrap"}
	for _, name := range all {
		mustCreateConsoleSession(t, s, consoleSession(name, tokenOf[name], sessionEpoch))
	}
	for _, step := range []struct {
		tokenID   string
		wantN     int
		remaining []string
	}{
		{"tokaaaaaaaaa", 2, []string{"b1", "boot"}},
		{"tokaaaaaaaaa", 0, []string{"b1", "boot"}},
		{"toknever1234", 0, []string{"b1", "boot"}},
		{"bootstrap", 1, []string{"b1"}},
	} {
		n, err := s.DeleteConsoleSessionsOf(ctx(t), step.tokenID)
		if err != nil || n != step.wantN {
			t.Errorf("DeleteConsoleSessionsOf(%s) = %d, %v; want %d", step.tokenID, n, err, step.wantN)
		}
		wantSessions(t, "after DeleteConsoleSessionsOf("+step.tokenID+")", s, all, step.remaining)
	}
}

func testConsoleSessionExpiry(t *testing.T, s storage.Store) {
	now := sessionEpoch.Add(24 * time.Hour)
	idleSince := now.Add(-30 * time.Minute)
	sessions := []struct {
		name     string
		lastSeen time.Time
		expires  time.Time
		gone     bool
	}{
		{"active", now.Add(-time.Minute), now.Add(time.Hour), false},
		{"past its end", now.Add(-time.Minute), now.Add(-time.Second), true},
		{"idle too long", idleSince.Add(-time.Second), now.Add(time.Hour), true},
		{"both", idleSince.Add(-time.Hour), now.Add(-time.Hour), true},
		{"ends right now", now.Add(-time.Minute), now, false},
		{"idle exactly the limit", idleSince, now.Add(time.Hour), false},
		{"idle but touched", idleSince.Add(-time.Hour), now.Add(time.Hour), false},
	}
	var all, remaining []string
	wantN := 0
	for _, c := range sessions {
		cs := consoleSession(c.name, "tok111111111", sessionEpoch)
		cs.LastSeen, cs.Expires = c.lastSeen, c.expires
		mustCreateConsoleSession(t, s, cs)
		all = append(all, c.name)
		if c.gone {
			wantN++
		} else {
			remaining = append(remaining, c.name)
		}
	}
	// A request after a long pause keeps the session: the sweep counts
	// idle time from the touch.
	if err := s.TouchConsoleSession(ctx(t), sessionHash("idle but touched"), now); err != nil {
		t.Fatalf("TouchConsoleSession: %v", err)
	}
	n, err := s.DeleteExpiredConsoleSessions(ctx(t), now, idleSince)
	if err != nil || n != wantN {
		t.Errorf("DeleteExpiredConsoleSessions = %d, %v; want %d", n, err, wantN)
	}
	wantSessions(t, "after the sweep", s, all, remaining)
	n, err = s.DeleteExpiredConsoleSessions(ctx(t), now, idleSince)
	if err != nil || n != 0 {
		t.Errorf("DeleteExpiredConsoleSessions again = %d, %v; want 0", n, err)
	}
}

func testDeleteTokenEndsSessions(t *testing.T, s storage.Store) {
	revoked := token("aaaaaaaaaaaa", "console-admin", storage.RoleAdmin, sessionEpoch)
	kept := token("bbbbbbbbbbbb", "other-admin", storage.RoleAdmin, sessionEpoch)
	for _, tok := range []storage.Token{revoked, kept} {
		if _, err := s.CreateToken(ctx(t), tok); err != nil {
			t.Fatalf("CreateToken(%s): %v", tok.Name, err)
		}
	}
	all := []string{"r1", "r2", "k1", "boot"}
	tokenOf := map[string]string{"r1": revoked.ID, "r2": revoked.ID, "k1": kept.ID, "boot": "bootstrap"}
	for _, name := range all {
		mustCreateConsoleSession(t, s, consoleSession(name, tokenOf[name], sessionEpoch))
	}
	wantErr(t, "DeleteToken(unknown)", s.DeleteToken(ctx(t), "never-existed"), storage.ErrNotFound)
	wantSessions(t, "after the refused revocation", s, all, all)
	if err := s.DeleteToken(ctx(t), revoked.Name); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	wantSessions(t, "after DeleteToken", s, all, []string{"k1", "boot"})
}
