package entra_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/api/apitest"
	"github.com/scimgate/scimgate/sources/engine"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/storage"
)

// seedGroups returns the groups Seed put user i in (GroupsPerUser 2).
func seedGroups(i, groups int) []int { return []int{i % groups, (i + groups/2 + 1) % groups} }

func TestStoryDisableMoveDelete(t *testing.T) {
	const nUsers, nGroups = 5000, 300
	tn := graphtest.New(graphtest.Options{})
	t.Cleanup(tn.Close)
	seed := tn.Seed(graphtest.SeedOptions{Users: nUsers, Groups: nGroups})
	a := newApp(t, entra.Kind())
	id := a.createSource(t, tn, nil)

	first := a.run(t, id)
	if first.Status != storage.RunSucceeded || first.Mode != "full" || first.Counts.Created != nUsers+nGroups || first.Counts.Unresolved != 0 {
		t.Fatalf("first run = %+v", first)
	}

	want := map[string]string{} // source key -> "action Kind"
	touched := map[int]bool{}   // groups whose membership changes
	for i := 100; i < 110; i++ {
		tn.DisableUser(seed.Users[i])
		want[seed.Users[i]] = "update User"
	}
	for i := 200; i < 220; i++ { // move from their first group to another
		from, to := seedGroups(i, nGroups)[0], (i+7)%nGroups
		tn.RemoveMembers(seed.Groups[from], seed.Users[i])
		tn.AddMembers(seed.Groups[to], seed.Users[i])
		touched[from], touched[to] = true, true
	}
	for i := 300; i < 303; i++ { // deleted users also leave their groups
		tn.DeleteUser(seed.Users[i])
		want[seed.Users[i]] = "deactivate User"
		for _, g := range seedGroups(i, nGroups) {
			touched[g] = true
		}
	}
	for g := range touched {
		want[seed.Groups[g]] = "update Group"
	}

	second := a.run(t, id)
	if second.Status != storage.RunSucceeded || second.Mode != "incremental" {
		t.Fatalf("second run = %+v", second)
	}
	c := second.Counts
	if c.Updated != 10+len(touched) || c.Deactivated != 3 || c.Created != 0 || c.Deleted != 0 || c.Errors != 0 || c.Conflicts != 0 {
		t.Errorf("counts = %+v, want %d updated and 3 deactivated", c, 10+len(touched))
	}
	if got := a.changes(t, second.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}

	// What SCIM clients see.
	if u := a.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn(105))); u["active"] != false {
		t.Errorf("disabled user = %v", u)
	}
	if u := a.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn(301))); u["active"] != false {
		t.Errorf("deleted user = %v", u)
	}
	if u := a.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn(400))); u["active"] != true {
		t.Errorf("untouched user = %v", u)
	}
	moved := a.scimOne(t, "Users", fmt.Sprintf(`userName eq "%s"`, upn(210)))["id"]
	if !hasMember(a.scimOne(t, "Groups", fmt.Sprintf(`displayName eq "Group %04d"`, (210+7)%nGroups)), moved) ||
		hasMember(a.scimOne(t, "Groups", fmt.Sprintf(`displayName eq "Group %04d"`, 210%nGroups)), moved) {
		t.Errorf("user 210 did not move")
	}
}

func hasMember(g map[string]any, id any) bool {
	members, _ := g["members"].([]any)
	for _, m := range members {
		if m.(map[string]any)["value"] == id {
			return true
		}
	}
	return false
}

func TestStoryRunKilledHalfwayResumesFromTheOldCursor(t *testing.T) {
	tn := graphtest.New(graphtest.Options{UserPageSize: 50, MemberBudget: 5000})
	t.Cleanup(tn.Close)
	seed := tn.Seed(graphtest.SeedOptions{Users: 1000, Groups: 20})
	// Pages are written before the kill: batches of 100.
	a := newAppWith(t, entra.Kind(), apitest.Options{Runner: engine.RunnerOptions{BatchSize: 100}})
	id := a.createSource(t, tn, nil)

	// The first, full run dies halfway through the users (the process
	// stops: the runner shuts down mid-request): one page of groups, 14
	// of 20 pages of users.
	killAt := 1 + 14
	tn.After(killAt, func() { go kill(a.Runner) })
	killed := a.run(t, id)
	if killed.Status != storage.RunFailed || !strings.Contains(killed.Error, "cancel") || killed.Cursor != nil {
		t.Fatalf("killed run = %+v", killed)
	}
	written := killed.Counts.Created
	if written == 0 || written >= 1000 {
		t.Fatalf("the kill should land mid-run; %d users were written", written)
	}
	// A new process: a new runner over the same database.
	restart := func() *engine.Runner {
		r := engine.NewRunner(a.Store, a.Kinds, a.Sealer, engine.RunnerOptions{BatchSize: 100})
		t.Cleanup(func() { r.Shutdown(context.Background()) })
		return r
	}
	r2 := restart()
	full := a.runWith(t, r2, id)
	// What the killed run committed is unchanged, except users whose
	// manager had not been written when the run died: their manager
	// reference was cleared, and the resumed run sets it (how many
	// depends on where the kill lands).
	if full.Status != storage.RunSucceeded || full.Mode != "full" || full.Counts.Created != 1020-written ||
		full.Counts.Unchanged+full.Counts.Updated != written {
		t.Fatalf("resumed full run = %+v (after %d written)", full.Counts, written)
	}
	if full.Counts.Updated > 0 {
		changes, _, err := a.Store.ListChanges(context.Background(), full.ID, 0, 5000)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			if c.Action == storage.ChangeUpdate && withoutManager(t, c.Before) != withoutManager(t, c.After) {
				t.Errorf("the resumed run changed more than the manager of %s:\n%s\n%s", c.Key, c.Before, c.After)
			}
		}
	}

	// Now an incremental run dies; the next starts from the cursor the
	// full run saved, and nothing is lost.
	for _, u := range seed.Users[500:540] {
		tn.UpdateUser(u, map[string]any{"department": "Moved"})
	}
	tn.DeleteUser(seed.Users[7])
	tn.After(tn.GraphRequests("")+1, func() { go kill(r2) })
	if killed := a.runWith(t, r2, id); killed.Status != storage.RunFailed {
		t.Fatalf("second kill = %+v", killed)
	}
	src, _ := a.Store.GetSource(context.Background(), id)
	if string(src.Cursor) != string(full.Cursor) {
		t.Fatalf("the failed run changed the cursor")
	}
	resumed := a.runWith(t, restart(), id)
	c := resumed.Counts
	if resumed.Status != storage.RunSucceeded || resumed.Mode != "incremental" || c.Deactivated != 1 || c.Errors != 0 {
		t.Fatalf("resumed incremental run = %+v", resumed)
	}
	changes := a.changes(t, resumed.ID)
	for _, u := range seed.Users[500:540] {
		if changes[u] != "update User" {
			t.Errorf("user %s: %q", u, changes[u])
		}
	}
	if changes[seed.Users[7]] != "deactivate User" {
		t.Errorf("deleted user: %q", changes[seed.Users[7]])
	}
}

// kill stops a runner the way a dying process does: running runs are
// canceled at once.
func kill(r *engine.Runner) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Shutdown(ctx)
}

func TestStoryResyncDeletionsPassTheGuard(t *testing.T) {
	tn := graphtest.New(graphtest.Options{})
	t.Cleanup(tn.Close)
	seed := tn.Seed(graphtest.SeedOptions{Users: 200, Groups: 5})
	a := newApp(t, entra.Kind())
	id := a.createSource(t, tn, nil)
	if r := a.run(t, id); r.Status != storage.RunSucceeded {
		t.Fatalf("first run = %+v", r)
	}
	// While the token is dead, 60 users are purged: the resync sees them
	// absent, which is more than the guard's default 20%.
	for _, u := range seed.Users[:60] {
		tn.PurgeUser(u)
	}
	tn.InvalidateDeltaTokens(graphtest.StaleGone)
	held := a.run(t, id)
	if held.Status != storage.RunHeld || held.Mode != "full" || held.Counts.Pending != 60 ||
		!slices.Contains(held.Notes, "delta token expired: full resync") {
		t.Fatalf("run = %+v", held)
	}
	pending, _, err := a.Store.ListPending(context.Background(), held.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, p := range pending {
		keys[p.Key] = true
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(keys)), sorted(seed.Users[:60]...)) {
		t.Errorf("pending = %v", pending)
	}
}

func TestStoryRecycleBinUserIsDeactivatedNotDeletedByAResync(t *testing.T) {
	tn := graphtest.New(graphtest.Options{})
	t.Cleanup(tn.Close)
	seed := tn.Seed(graphtest.SeedOptions{Users: 50, Groups: 2})
	a := newApp(t, entra.Kind())
	id := a.createSource(t, tn, nil)
	if status, body := a.call(t, "PATCH", "/api/v1/sources/"+id, a.Admin, map[string]any{"deletion": map[string]any{"policy": "delete"}}); status != 200 {
		t.Fatalf("patch: %d %v", status, body)
	}
	a.run(t, id)
	tn.DeleteUser(seed.Users[1]) // recycle bin: restorable
	tn.PurgeUser(seed.Users[2])  // gone for good
	tn.InvalidateDeltaTokens(graphtest.StaleResync)
	r := a.run(t, id)
	if r.Status != storage.RunSucceeded || r.Mode != "full" || r.Counts.Deactivated != 1 || r.Counts.Deleted != 1 {
		t.Fatalf("run = %+v", r)
	}
	changes := a.changes(t, r.ID)
	if changes[seed.Users[1]] != "deactivate User" || changes[seed.Users[2]] != "delete User" {
		t.Errorf("changes = %v", changes)
	}
}

// withoutManager is a user's JSON without its enterprise manager.
func withoutManager(t *testing.T, doc json.RawMessage) string {
	t.Helper()
	var u storage.User
	if err := json.Unmarshal(doc, &u); err != nil {
		t.Fatalf("change document %s: %v", doc, err)
	}
	if u.Enterprise != nil {
		u.Enterprise.Manager = nil
	}
	b, _ := json.Marshal(u)
	return string(b)
}
