package api_test

// The harness of the application-view tests: a server over a store whose
// clock is a sourcetest.Clock, on SQLite always and on PostgreSQL when
// SCIMGATE_TEST_POSTGRES is set. Directories are written through the
// store, apps with its CreateApp, and app tokens are readers bound to an
// app (Token.App), as the config API makes them.

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// viewStart is the fake clock's start; no test depends on today's date.
var viewStart = time.Date(2031, 3, 4, 9, 0, 0, 0, time.UTC)

// viewEnv is a server whose store runs on clock.
type viewEnv struct {
	*env
	clock *sourcetest.Clock
}

// forEachViewStore runs fn on SQLite and, when a test server is set, on
// PostgreSQL.
func forEachViewStore(t *testing.T, fn func(t *testing.T, e *viewEnv)) {
	t.Run("sqlite", func(t *testing.T) {
		clock := sourcetest.NewClock(viewStart)
		path := filepath.Join(t.TempDir(), "scimgate.db")
		fn(t, newViewEnv(t, path, clock))
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.EnvDSN) == "" {
			t.Skip(pgtest.EnvDSN + " is not set")
		}
		clock := sourcetest.NewClock(viewStart)
		fn(t, newViewEnv(t, pgtest.FreshSchema(t), clock))
	})
}

func newViewEnv(t *testing.T, dsn string, clock *sourcetest.Clock) *viewEnv {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{URL: ts.URL, Store: st, client: ts.Client()}
	e.Reader = e.newToken(t, readerName, storage.RoleReader)
	e.Writer = e.newToken(t, writerName, storage.RoleWriter)
	return &viewEnv{env: e, clock: clock}
}

// app creates an app; a scope filter is compiled as the config API does.
func (e *viewEnv) app(t *testing.T, a storage.App) storage.App {
	t.Helper()
	if a.Scope.Filter != "" {
		expr, err := scim.CompileUserFilter(a.Scope.Filter)
		if err != nil {
			t.Fatalf("CompileUserFilter(%q): %v", a.Scope.Filter, err)
		}
		a.Scope.FilterExpr = expr
	}
	if a.Groups == "" {
		a.Groups = storage.GroupsScope
	}
	created, err := e.Store.CreateApp(t.Context(), a)
	if err != nil {
		t.Fatalf("CreateApp(%s): %v", a.Name, err)
	}
	return created
}

// appToken returns a bearer token that reads app's view.
func (e *viewEnv) appToken(t *testing.T, app storage.App) string {
	t.Helper()
	bearer, tok, err := api.NewToken(app.Name+"-token", storage.RoleReader, e.clock.Now())
	if err != nil {
		t.Fatalf("api.NewToken: %v", err)
	}
	tok.App = app.ID
	if _, err := e.Store.CreateToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return bearer
}

// viewUser is a user of a test directory.
type viewUser struct {
	userName, title, dept, owner string
	inactive                     bool
}

// users stores the users and returns their ids by userName.
func (e *viewEnv) users(t *testing.T, us ...viewUser) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, u := range us {
		su := storage.User{
			UserName: u.userName, Owner: u.owner, Title: u.title, Active: !u.inactive,
			DisplayName: strings.ToUpper(u.userName),
			Name:        &storage.Name{GivenName: "G-" + u.userName, FamilyName: "F-" + u.userName},
			Emails:      []storage.MultiValue{{Value: u.userName + "@example.com", Type: "work", Primary: true}},
		}
		if su.Owner == "" {
			su.Owner = "corp-ad"
		}
		if u.dept != "" {
			su.Enterprise = &storage.EnterpriseExt{Department: u.dept, EmployeeNumber: "E-" + u.userName}
		}
		created, err := e.Store.CreateUser(t.Context(), su)
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", u.userName, err)
		}
		ids[u.userName] = created.ID
	}
	return ids
}

// group stores a group with user members (by id) and group members.
func (e *viewEnv) group(t *testing.T, name string, userIDs []string, groupIDs ...string) string {
	t.Helper()
	g := storage.Group{DisplayName: name, Owner: "corp-ad"}
	for _, id := range userIDs {
		g.Members = append(g.Members, storage.Member{Value: id, Type: storage.MemberUser})
	}
	for _, id := range groupIDs {
		g.Members = append(g.Members, storage.Member{Value: id, Type: storage.MemberGroup})
	}
	created, err := e.Store.CreateGroup(t.Context(), g)
	if err != nil {
		t.Fatalf("CreateGroup(%s): %v", name, err)
	}
	return created.ID
}

// members edits a group's membership through the store.
func (e *viewEnv) members(t *testing.T, groupID string, change storage.MemberChange) {
	t.Helper()
	if _, err := e.Store.UpdateGroup(t.Context(), groupID, false, func(*storage.Group) (storage.MemberChange, error) {
		return change, nil
	}); err != nil {
		t.Fatalf("UpdateGroup(%s): %v", groupID, err)
	}
}

// list GETs path with token and returns the response, checking 200.
func (e *viewEnv) list(t *testing.T, token, path string) *resp {
	t.Helper()
	r := e.do(t, "GET", path, token, nil)
	wantJSON(t, r, http.StatusOK)
	return r
}

// userNames lists the userNames of a list response, sorted.
func userNames(r *resp) []string { return sorted(resourceField(r, "userName")) }
