package api_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// The list page and token caches must never answer from before a write:
// every case reads a page (filling the cache), writes, and expects the very
// next read to show the write. "other" writes through a second store on
// the same database: on SQLite what the token CLI does from another
// process, on PostgreSQL another replica.

type cacheEnv struct {
	*env
	other *sqlstore.Store
	// notified: the other store's writes reach this one's caches when
	// their notification arrives (PostgreSQL), a moment after the commit.
	notified bool
}

// settle repeats GET path until arrived accepts the answer, for ten
// seconds at most, when writes by the other store arrive by notification;
// otherwise the first answer must already be right.
func (e cacheEnv) settle(t *testing.T, path string, arrived func(*resp) bool) *resp {
	t.Helper()
	r := e.do(t, "GET", path, e.Reader, nil)
	for deadline := time.Now().Add(10 * time.Second); e.notified && !arrived(r) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		r = e.do(t, "GET", path, e.Reader, nil)
	}
	return r
}

func newCacheEnvSQLite(t *testing.T) cacheEnv {
	e := newEnv(t)
	other, err := sqlstore.Open(t.Context(), e.DBPath, sqlstore.Options{})
	if err != nil {
		t.Fatalf("second store: %v", err)
	}
	t.Cleanup(func() { other.Close() })
	return cacheEnv{env: e, other: other}
}

func newCacheEnvPostgres(t *testing.T) cacheEnv {
	dsn := pgtest.FreshSchema(t)
	st, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	other, err := sqlstore.Open(t.Context(), dsn, sqlstore.Options{})
	if err != nil {
		t.Fatalf("second replica: %v", err)
	}
	t.Cleanup(func() { other.Close() })
	srv, err := api.New(api.Config{Store: st})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	e := &env{URL: ts.URL, Store: st, client: ts.Client()}
	e.Reader = e.newToken(t, readerName, storage.RoleReader)
	e.Writer = e.newToken(t, writerName, storage.RoleWriter)
	return cacheEnv{env: e, other: other, notified: true}
}

func TestListCacheSeesEveryWrite(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testListCacheSeesEveryWrite(t, newCacheEnvSQLite) })
	t.Run("postgres", func(t *testing.T) { testListCacheSeesEveryWrite(t, newCacheEnvPostgres) })
}

func testListCacheSeesEveryWrite(t *testing.T, open func(*testing.T) cacheEnv) {
	byName := "/Users?filter=" + url.QueryEscape(`userName eq "ada@example.com"`)
	cases := []struct {
		name  string
		path  string
		write func(t *testing.T, e cacheEnv, adaID string)
		check func(t *testing.T, r *resp)
		// remote, for a write through the other store, tells when it
		// has arrived (see cacheEnv.settle).
		remote func(r *resp) bool
	}{
		{
			name: "SCIM patch of a listed user",
			path: byName,
			write: func(t *testing.T, e cacheEnv, id string) {
				r := e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", "Countess")))
				wantJSON(t, r, http.StatusOK)
			},
			check: func(t *testing.T, r *resp) {
				if got := r.str("Resources", 0, "title"); got != "Countess" {
					t.Errorf("title after the patch = %q, want Countess\n%v", got, r)
				}
			},
		},
		{
			name: "SCIM create of a user the filter matches",
			path: "/Users?filter=" + url.QueryEscape(`title eq "Engineer"`),
			write: func(t *testing.T, e cacheEnv, _ string) {
				e.createUser(t, e.Writer, "grace@example.com", map[string]any{"title": "Engineer"})
			},
			check: func(t *testing.T, r *resp) {
				if got := r.num(t, "totalResults"); got != 2 {
					t.Errorf("totalResults after the create = %d, want 2\n%v", got, r)
				}
			},
		},
		{
			name: "SCIM delete",
			path: byName,
			write: func(t *testing.T, e cacheEnv, id string) {
				r := e.do(t, "DELETE", "/Users/"+id, e.Writer, nil)
				if r.Status != http.StatusNoContent {
					t.Fatalf("%v", r)
				}
			},
			check: func(t *testing.T, r *resp) {
				if got := r.num(t, "totalResults"); got != 0 {
					t.Errorf("totalResults after the delete = %d, want 0\n%v", got, r)
				}
			},
		},
		{
			name: "a write through the other store",
			path: byName,
			write: func(t *testing.T, e cacheEnv, id string) {
				_, err := e.other.UpdateUser(t.Context(), id, func(u *storage.User) error { u.DisplayName = "Lovelace"; return nil })
				if err != nil {
					t.Fatalf("UpdateUser: %v", err)
				}
			},
			remote: func(r *resp) bool { return r.str("Resources", 0, "displayName") == "Lovelace" },
			check: func(t *testing.T, r *resp) {
				if got := r.str("Resources", 0, "displayName"); got != "Lovelace" {
					t.Errorf("displayName after the other store's write = %q, want Lovelace\n%v", got, r)
				}
			},
		},
		{
			name: "a group member added",
			path: "/Groups?filter=" + url.QueryEscape(`displayName eq "Analysts"`),
			write: func(t *testing.T, e cacheEnv, id string) {
				g := e.do(t, "GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Analysts"`), e.Writer, nil)
				gid := g.str("Resources", 0, "id")
				r := e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("add", "members", []any{map[string]any{"value": id}})))
				if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
					t.Fatalf("%v", r)
				}
			},
			check: func(t *testing.T, r *resp) {
				if got := len(r.list("Resources", 0, "members")); got != 1 {
					t.Errorf("members after the add = %d, want 1\n%v", got, r)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := open(t)
			ada := e.createUser(t, e.Writer, "ada@example.com", map[string]any{"title": "Engineer"})
			e.createGroup(t, e.Writer, "Analysts")
			for range 2 { // the second read is answered from the cache
				wantJSON(t, e.do(t, "GET", tc.path, e.Reader, nil), http.StatusOK)
			}
			tc.write(t, e, ada.str("id"))
			r := e.do(t, "GET", tc.path, e.Reader, nil)
			if tc.remote != nil {
				r = e.settle(t, tc.path, tc.remote)
			}
			wantJSON(t, r, http.StatusOK)
			tc.check(t, r)
		})
	}
}

// A token revoked through the other store (the token CLI, or another
// replica) is refused though the cache held it: on SQLite on the next
// request, on PostgreSQL once the revocation's notification has arrived
// (well under a second; the stamp distrusts a listener silent for 3 s).
func TestTokenCacheSeesRevocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(*testing.T) cacheEnv
	}{{"sqlite", newCacheEnvSQLite}, {"postgres", newCacheEnvPostgres}} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.open(t)
			for range 2 {
				wantJSON(t, e.do(t, "GET", "/Users", e.Reader, nil), http.StatusOK)
			}
			if err := e.other.DeleteToken(t.Context(), readerName); err != nil {
				t.Fatalf("DeleteToken: %v", err)
			}
			r := e.settle(t, "/Users", func(r *resp) bool { return r.Status == http.StatusUnauthorized })
			if r.Status != http.StatusUnauthorized {
				t.Errorf("after the revocation: %v, want 401", r)
			}
		})
	}
}
