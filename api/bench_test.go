package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// benchServer loads n users and returns the handler and a reader token.
func benchServer(b *testing.B, n int) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	users := make([]storage.User, 0, n)
	for i := 0; i < n; i++ {
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
	bearer, tok, err := api.NewToken("bench", storage.RoleReader, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.CreateToken(ctx, tok); err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{Store: store})
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), bearer
}

func benchGet(b *testing.B, h http.Handler, token string, target func(i int) string) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, target(i), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	reportCPU(b, cpu)
}

// processCPU is the CPU time the process has used (user + system). On a
// shared machine it varies far less than wall time does.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU time per operation since start as cpu-ns/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFilterUserName is the lookup Entra and Okta make before every
// create: userName eq, case-insensitive, over 10,000 users.
func BenchmarkFilterUserName(b *testing.B) {
	h, token := benchServer(b, 10000)
	benchGet(b, h, token, func(i int) string {
		return "/scim/v2/Users?filter=" + url.QueryEscape(fmt.Sprintf(`userName eq "USER%06d@example.com"`, i%10000))
	})
}

// BenchmarkFilterPage100 is a 100-user page filtered on an indexed
// enterprise attribute.
func BenchmarkFilterPage100(b *testing.B) {
	h, token := benchServer(b, 100000)
	benchGet(b, h, token, func(i int) string {
		return "/scim/v2/Users?count=100&filter=" + url.QueryEscape(fmt.Sprintf(
			`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "dept%02d"`, i%50))
	})
}
