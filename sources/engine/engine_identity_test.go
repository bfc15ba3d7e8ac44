package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

// A source record whose userName a SCIM client could not write (a control
// character, past the length limit) is a conflict, not a stored user, and
// two records whose userNames differ only in Unicode form are one name.
func TestSourceUserNamesMeetTheIdentifierRules(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(
		sourcetest.User("ok", "ok@example.com"),
		sourcetest.User("nul", "bad\x00@example.com"),
		sourcetest.User("long", strings.Repeat("a", 900_000)),
		sourcetest.User("decomposed", "jose\u0301@example.com"),
		sourcetest.User("composed", "JOS\u00c9@example.com"),
	)
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 5, Created: 2, Conflicts: 3})
	users := e.users(t)
	if len(users) != 2 || users["ok@example.com"].ExternalID != "ok" || users["jose\u0301@example.com"].ExternalID != "decomposed" {
		var names []string
		for name := range users {
			names = append(names, fmt.Sprintf("%.40q (%d bytes)", name, len(name)))
		}
		t.Errorf("stored users: %v", names)
	}
}

// A source may not store what a SCIM client may not: every attribute of a
// mapped record meets the per-attribute limits (README, "Limits"), and a
// record past one is a conflict whose change names the attribute, with
// the record's name clipped in the change log.
func TestSourceRecordsMeetTheAttributeLimits(t *testing.T) {
	e := newEnv(t, storage.DeletionPolicy{})
	e.ds.SetUsers(
		sourcetest.User("ok", "ok@example.com", "title", strings.Repeat("t", 4096)),
		sourcetest.User("title", "title@example.com", "title", strings.Repeat("t", 4097)),
		sourcetest.User("dept", "dept@example.com", "department", strings.Repeat("d", 5000)),
		sourcetest.User(strings.Repeat("k", 1025), "longkey@example.com"),
	)
	e.ds.SetGroups(
		sourcetest.Group("g-ok", "Engineering", "ok"),
		sourcetest.Group("g-long", strings.Repeat("G", 300), "ok"),
		sourcetest.Group("g-ctl", "Ops\u200b", "ok"),
	)
	r := e.run(t, engine.Trigger{})
	wantCounts(t, r, storage.RunCounts{Fetched: 7, Created: 2, Conflicts: 5})
	if users := e.users(t); len(users) != 1 || len(users["ok@example.com"].Title) != 4096 {
		t.Errorf("stored %d users, want ok@ with its 4096-character title", len(users))
	}
	changes, _, err := e.store.ListChanges(t.Context(), r.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, c := range changes {
		if c.Action != storage.ChangeConflict {
			continue
		}
		details = append(details, c.Detail)
		if len([]rune(c.Name)) > storage.MaxUserNameChars+1 {
			t.Errorf("a conflict carries a %d-character name", len([]rune(c.Name)))
		}
	}
	for _, want := range []string{"title has 4097 characters; the limit is 4096", "department has 5000 characters",
		"externalId has 1025 characters; the limit is 1024", "displayName has 300 characters; the limit is 256", "displayName holds the character U+200B"} {
		if !strings.Contains(strings.Join(details, "\n"), want) {
			t.Errorf("no conflict says %q: %q", want, details)
		}
	}
}
