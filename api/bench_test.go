package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
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

// bigGroupFixture is a server holding a group of 100,000 users and spare
// users to add to it, built once per test binary run: it takes seconds.
type bigGroupFixture struct {
	handler http.Handler
	writer  string
	groupID string
	spare   []string // users that are not members
	member  []string // users that are
}

var (
	bigGroupOnce sync.Once
	bigGroup     bigGroupFixture
	bigGroupErr  error
)

func loadBigGroup(b *testing.B) bigGroupFixture {
	b.Helper()
	bigGroupOnce.Do(func() { bigGroup, bigGroupErr = newBigGroupFixture() })
	if bigGroupErr != nil {
		b.Fatal(bigGroupErr)
	}
	return bigGroup
}

// bigGroupDir holds the fixture's database; TestMain removes it when the
// test binary is done, since the fixture outlives any one benchmark.
var bigGroupDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if bigGroupDir != "" {
		os.RemoveAll(bigGroupDir)
	}
	os.Exit(code)
}

func newBigGroupFixture() (bigGroupFixture, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "scimgate-bench-")
	if err != nil {
		return bigGroupFixture{}, err
	}
	bigGroupDir = dir
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "bench.db"), sqlstore.Options{})
	if err != nil {
		return bigGroupFixture{}, err
	}
	const owner = "scim:bench-writer"
	const members, spare = 100_000, 5_000
	users := make([]storage.User, 0, members+spare)
	for i := 0; i < members+spare; i++ {
		users = append(users, storage.User{UserName: fmt.Sprintf("user%06d@example.com", i), Active: true, Owner: owner})
	}
	created, err := store.CreateUsers(ctx, users)
	if err != nil {
		return bigGroupFixture{}, err
	}
	f := bigGroupFixture{}
	ms := make([]storage.Member, 0, members)
	for i, u := range created {
		if i < members {
			ms = append(ms, storage.Member{Value: u.ID})
			f.member = append(f.member, u.ID)
		} else {
			f.spare = append(f.spare, u.ID)
		}
	}
	g, err := store.CreateGroup(ctx, storage.Group{DisplayName: "Everyone", Owner: owner, Members: ms})
	if err != nil {
		return bigGroupFixture{}, err
	}
	f.groupID = g.ID
	bearer, tok, err := api.NewToken("bench-writer", storage.RoleWriter, time.Now())
	if err != nil {
		return bigGroupFixture{}, err
	}
	if _, err := store.CreateToken(ctx, tok); err != nil {
		return bigGroupFixture{}, err
	}
	srv, err := api.New(api.Config{Store: store})
	if err != nil {
		return bigGroupFixture{}, err
	}
	f.handler, f.writer = srv.Handler(), bearer
	return f, nil
}

// patchMembers sends one PATCH of the big group and fails unless it
// answers 204.
func (f bigGroupFixture) patchMembers(b *testing.B, op, path string, value any) {
	body := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": op, "path": path, "value": value}},
	}
	if value == nil {
		delete(body["Operations"].([]any)[0].(map[string]any), "value")
	}
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPatch, "/scim/v2/Groups/"+f.groupID, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+f.writer)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		b.Fatalf("PATCH %s %s: status %d: %s", op, path, rec.Code, rec.Body)
	}
}

// BenchmarkBigGroupAddMember adds one member to a group of 100,000 with a
// PATCH through the whole HTTP stack (the member is removed again outside
// the timed part).
func BenchmarkBigGroupAddMember(b *testing.B) {
	f := loadBigGroup(b)
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		id := f.spare[i%len(f.spare)]
		start := processCPU()
		f.patchMembers(b, "add", "members", []any{map[string]any{"value": id}})
		cpu += processCPU() - start
		b.StopTimer()
		f.patchMembers(b, "remove", `members[value eq "`+id+`"]`, nil)
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBigGroupRemoveMember removes one member of a group of 100,000
// (Okta's members[value eq "id"] form) and puts it back untimed.
func BenchmarkBigGroupRemoveMember(b *testing.B) {
	f := loadBigGroup(b)
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		id := f.member[(i*7919)%len(f.member)]
		start := processCPU()
		f.patchMembers(b, "remove", `members[value eq "`+id+`"]`, nil)
		cpu += processCPU() - start
		b.StopTimer()
		f.patchMembers(b, "add", "members", []any{map[string]any{"value": id}})
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBigGroupGet reads the group of 100,000 members with all of
// them: the ~12 MB response is built in memory.
func BenchmarkBigGroupGet(b *testing.B) {
	f := loadBigGroup(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodGet, "/scim/v2/Groups/"+f.groupID, nil)
		req.Header.Set("Authorization", "Bearer "+f.writer)
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
	reportCPU(b, cpu)
}
