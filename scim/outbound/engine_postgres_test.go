package outbound_test

import (
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// TestPushOnPostgres runs a push's life on PostgreSQL (skipped without
// SCIMGATE_TEST_POSTGRES): first run, an edit, a leaver, a mass leave held
// and approved.
func TestPushOnPostgres(t *testing.T) {
	f := newPushFixture(t, fixtureOptions{dsn: pgtest.FreshSchema(t), scoped: true,
		push: storage.PushConfig{Deletion: storage.DeletionLimits{MaxCount: 2}}})
	us := f.users(8, "pg")
	f.group("Team", us[0].ID, us[1].ID)
	f.target.AddUser(t, map[string]any{"userName": "PG000", "active": true})
	first := f.mustRun(outbound.PushJob{})
	if c := first.Run.Counts; c.Created != 8 || c.Updated != 1 || len(f.target.Users()) != 8 {
		t.Fatalf("first run: %s, %d users in the target", counts(c), len(f.target.Users()))
	}
	f.target.ResetLog()
	f.editUser(us[3].ID, func(u *storage.User) { u.Title = "Chief" })
	f.removeMembers(f.scope, us[4].ID)
	second := f.mustRun(outbound.PushJob{})
	if c := second.Run.Counts; c.Updated < 1 || c.Deactivated != 1 || f.targetUser(us[3].UserName).Str("title") != "Chief" {
		t.Errorf("second run: %s", counts(c))
	}
	f.removeMembers(f.scope, us[5].ID, us[6].ID, us[7].ID)
	held := f.run(outbound.PushJob{})
	if held.Run.Status != storage.RunHeld || len(held.Pending) != 3 {
		t.Fatalf("mass leave: %s with %d pending", held.Run.Status, len(held.Pending))
	}
	approved := f.mustRun(outbound.PushJob{Approved: held.Pending})
	if approved.Run.Counts.Deactivated != 3 {
		t.Errorf("approved: %s", counts(approved.Run.Counts))
	}
}
