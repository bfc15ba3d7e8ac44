package outbound_test

import (
	"cmp"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/scim/outbound/targettest"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// pushFixture is a real SQLite store holding a directory and an app whose
// view is pushed into an emulated target over loopback HTTP.
type pushFixture struct {
	t      testing.TB
	store  *sqlstore.Store
	clock  *sourcetest.Clock
	target *targettest.Target
	client *outbound.Client
	engine *outbound.Engine
	app    storage.App
	scope  storage.Group // the app's scope group, when it has one
}

type fixtureOptions struct {
	profile string // generic (default) or aws
	target  targettest.Options
	push    storage.PushConfig
	// scoped makes the app's view the members of the group "Scope".
	scoped bool
	// filter, when set, is the app's scope filter (in its parsed form).
	filter storage.Expr
	attrs  []string
	// dsn, when set, is the store's database (PostgreSQL); default a
	// fresh SQLite file.
	dsn string
}

func newPushFixture(t testing.TB, o fixtureOptions) *pushFixture {
	t.Helper()
	clock := sourcetest.NewClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	dsn := cmp.Or(o.dsn, filepath.Join(t.TempDir(), "push.db"))
	store, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if o.profile == "" {
		o.profile = "generic"
	}
	o.target.Token = testToken
	o.target.AWS = o.target.AWS || o.profile == "aws"
	tgt := targettest.New(t, o.target)
	profile, ok := outbound.ProfileByName(o.profile)
	if !ok {
		t.Fatalf("no profile %q", o.profile)
	}
	client, err := outbound.NewClient(outbound.ClientConfig{BaseURL: tgt.URL(), Profile: profile, HTTPClient: tgt.Client(),
		Auth:  outbound.ClientAuth{PushAuth: storage.PushAuth{Type: storage.PushAuthBearer}, Token: testToken},
		Sleep: clock.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	f := &pushFixture{t: t, store: store, clock: clock, target: tgt, client: client,
		engine: outbound.NewEngine(store, outbound.EngineOptions{PageSize: 7})}
	push := o.push
	push.URL, push.Profile = tgt.URL(), o.profile
	app := storage.App{Name: "target-app", Groups: storage.GroupsAll, Attributes: o.attrs, Push: &push}
	if o.filter != nil {
		app.Scope.Filter, app.Scope.FilterExpr = "(test filter)", o.filter
	}
	if o.scoped {
		f.scope = f.group("Scope")
		app.Scope.Groups = []string{"Scope"}
		app.Groups = storage.GroupsScope
	}
	if f.app, err = store.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	return f
}

// user stores a user (a member of the scope group when the app has one).
func (f *pushFixture) user(userName string, mod ...func(*storage.User)) storage.User {
	f.t.Helper()
	u := storage.User{UserName: userName, Active: true, Owner: "source:test", DisplayName: "User " + userName,
		Emails: []storage.MultiValue{{Value: userName + "@example.com", Type: "work", Primary: true}}}
	for _, m := range mod {
		m(&u)
	}
	u, err := f.store.CreateUser(f.t.Context(), u)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.scope.ID != "" {
		f.addMembers(f.scope, u.ID)
	}
	return u
}

func (f *pushFixture) users(n int, prefix string, mod ...func(*storage.User)) []storage.User {
	out := make([]storage.User, n)
	for i := range out {
		out[i] = f.user(fmt.Sprintf("%s%03d", prefix, i), mod...)
	}
	return out
}

func (f *pushFixture) group(name string, members ...string) storage.Group {
	f.t.Helper()
	g := storage.Group{DisplayName: name, Owner: "source:test"}
	for _, id := range members {
		g.Members = append(g.Members, storage.Member{Value: id, Type: storage.MemberUser})
	}
	g, err := f.store.CreateGroup(f.t.Context(), g)
	if err != nil {
		f.t.Fatal(err)
	}
	return g
}

func (f *pushFixture) addMembers(g storage.Group, ids ...string) {
	f.t.Helper()
	f.editMembers(g, storage.MemberChange{Add: members(ids)})
}

func (f *pushFixture) removeMembers(g storage.Group, ids ...string) {
	f.t.Helper()
	f.editMembers(g, storage.MemberChange{Remove: ids})
}

func (f *pushFixture) editMembers(g storage.Group, mc storage.MemberChange) {
	f.t.Helper()
	if _, err := f.store.UpdateGroup(f.t.Context(), g.ID, false, func(*storage.Group) (storage.MemberChange, error) { return mc, nil }); err != nil {
		f.t.Fatal(err)
	}
}

func members(ids []string) []storage.Member {
	out := make([]storage.Member, len(ids))
	for i, id := range ids {
		out[i] = storage.Member{Value: id, Type: storage.MemberUser}
	}
	return out
}

func (f *pushFixture) editUser(id string, edit func(*storage.User)) {
	f.t.Helper()
	if _, err := f.store.UpdateUser(f.t.Context(), id, func(u *storage.User) error { edit(u); return nil }); err != nil {
		f.t.Fatal(err)
	}
}

// run pushes once as the runner would: a run record, the engine, the
// outcome stored with FinishRun. The clock moves on a minute after it, so
// the next change is after this run's watermark.
func (f *pushFixture) run(job outbound.PushJob) outbound.PushOutcome {
	f.t.Helper()
	ctx := f.t.Context()
	f.clock.Advance(time.Minute)
	run, err := f.store.PushRuns().CreateRun(ctx, storage.Run{SourceID: f.app.ID, Status: storage.RunRunning, Trigger: "manual", Started: f.clock.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	app, err := f.store.GetApp(ctx, f.app.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	job.App, job.Target, job.Run = app, f.client, run
	out := f.engine.Push(ctx, job)
	if out.Run.Status == storage.RunHeld {
		if err := f.store.PushRuns().SetPending(ctx, run.ID, out.Pending); err != nil {
			f.t.Fatal(err)
		}
	}
	out.Run.Finished = f.clock.Now()
	if _, err := f.store.PushRuns().FinishRun(ctx, out.Run, out.SaveCursor, nil); err != nil && out.Run.Status != storage.RunHeld {
		f.t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	return out
}

// mustRun is run for a push that must succeed.
func (f *pushFixture) mustRun(job outbound.PushJob) outbound.PushOutcome {
	f.t.Helper()
	out := f.run(job)
	if out.Run.Status != storage.RunSucceeded {
		f.t.Fatalf("push %s: %s (notes %v)", out.Run.Status, out.Run.Error, out.Run.Notes)
	}
	return out
}

func (f *pushFixture) changes(run storage.Run) []storage.Change {
	f.t.Helper()
	ch, _, err := f.store.PushRuns().ListChanges(f.t.Context(), run.ID, 0, 10000)
	if err != nil {
		f.t.Fatal(err)
	}
	return ch
}

// targetUser is the target's user of userName; the test fails without one.
func (f *pushFixture) targetUser(userName string) targettest.Resource {
	f.t.Helper()
	r, ok := f.target.UserByName(userName)
	if !ok {
		f.t.Fatalf("the target has no user %q", userName)
	}
	return r
}

// writes counts the requests that change the target.
func (f *pushFixture) writes() map[string]int {
	out := map[string]int{}
	for _, r := range f.target.Requests() {
		if r.Method != "GET" {
			out[r.Method]++
		}
	}
	return out
}

func counts(c storage.RunCounts) string {
	return fmt.Sprintf("created %d updated %d unchanged %d deactivated %d deleted %d errors %d",
		c.Created, c.Updated, c.Unchanged, c.Deactivated, c.Deleted, c.Errors)
}
