package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// The app-token counterparts of BenchmarkFilterUserName and
// BenchmarkFilterPage100: the same directory and requests, read through an
// app whose view is a fifth of it (departments dept00..dept09 of 50) and
// whose allow-list hides some attributes, so the projection runs on every
// user. Compare each with its unscoped twin; the target is >= 80%.

// benchAppServer loads n users like benchServer and returns the handler
// and a token of an app over a fifth of them; allow sets the allow-list.
func benchAppServer(b *testing.B, n int, allow []string) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	users := make([]storage.User, 0, n)
	for i := range n {
		users = append(users, storage.User{
			UserName: fmt.Sprintf("user%06d@example.com", i), DisplayName: fmt.Sprintf("User %d", i), Active: true,
			Name:       &storage.Name{GivenName: "Given", FamilyName: fmt.Sprintf("Family%d", i%1000)},
			Emails:     []storage.MultiValue{{Value: fmt.Sprintf("user%06d@example.com", i), Type: "work", Primary: true}},
			Enterprise: &storage.EnterpriseExt{EmployeeNumber: fmt.Sprint(i), Department: fmt.Sprintf("dept%02d", i%50)},
		})
	}
	if _, err := store.CreateUsers(ctx, users); err != nil {
		b.Fatal(err)
	}
	scope := `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "dept0"`
	expr, err := scim.CompileUserFilter(scope)
	if err != nil {
		b.Fatal(err)
	}
	app, err := store.CreateApp(ctx, storage.App{Name: "bench-app", Groups: storage.GroupsScope, Attributes: allow,
		Scope: storage.AppScope{Filter: scope, FilterExpr: expr, IncludeInactive: true}})
	if err != nil {
		b.Fatal(err)
	}
	bearer, tok, err := api.NewToken("bench-app", storage.RoleReader, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	tok.App = app.ID
	if _, err := store.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), bearer
}

var benchAllowList = []string{"userName", "name", "emails", "active",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}

// BenchmarkAppViewUserName: userName eq over 10,000 users, through an app
// (a view of 2,000), for users in the view.
func BenchmarkAppViewUserName(b *testing.B) {
	h, token := benchAppServer(b, 10000, benchAllowList)
	benchGet(b, h, token, func(i int) string {
		// Users i with i%50 < 10 are in the view.
		k := (i%200)*50 + i%10
		return "/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "USER%06d@example.com"`, k))
	})
}

// BenchmarkAppViewPage100: a 100-user department page over 100,000 users
// through an app (a view of 20,000), with the allow-list applied.
func BenchmarkAppViewPage100(b *testing.B) {
	h, token := benchAppServer(b, 100000, benchAllowList)
	benchGet(b, h, token, func(i int) string {
		return "/scim/v2/Users?count=100&filter=" + url.QueryEscape(fmt.Sprintf(
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "dept%02d"`, i%10))
	})
}

// BenchmarkAppViewPage100AllAttributes is the same page for an app without
// an allow-list: the stored documents are copied as the unscoped list does.
func BenchmarkAppViewPage100AllAttributes(b *testing.B) {
	h, token := benchAppServer(b, 100000, nil)
	benchGet(b, h, token, func(i int) string {
		return "/scim/v2/Users?count=100&filter=" + url.QueryEscape(fmt.Sprintf(
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "dept%02d"`, i%10))
	})
}
