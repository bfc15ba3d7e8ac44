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
