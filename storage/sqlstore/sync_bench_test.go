package sqlstore_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

const (
	benchUsers = 100_000
	benchBatch = 500 // what the sync engine writes per transaction
)

// syncedUser is a directory user as a source maps it: name parts, two
// emails, a phone number and enterprise attributes.
func syncedUser(i int) storage.UserWrite {
	name := fmt.Sprintf("user%06d", i)
	return storage.UserWrite{
		Key:  fmt.Sprintf("guid-%08x", i*7919),
		Hash: fmt.Sprintf("%016x", i),
		User: storage.User{
			ExternalID:  "ext-" + name,
			UserName:    name + "@example.com",
			Name:        &storage.Name{GivenName: "Given" + name, FamilyName: "Family" + name, Formatted: "Given Family " + name},
			DisplayName: "Given Family " + name,
			Title:       "Engineer",
			Active:      true,
			Emails: []storage.MultiValue{
				{Value: name + "@example.com", Type: "work", Primary: true},
				{Value: name + "@home.example.org", Type: "home"},
			},
			PhoneNumbers: []storage.MultiValue{{Value: fmt.Sprintf("+1 555 %07d", i), Type: "work"}},
			Enterprise: &storage.EnterpriseExt{
				EmployeeNumber: fmt.Sprint(100000 + i),
				Department:     fmt.Sprintf("Dept %d", i%50),
				CostCenter:     fmt.Sprintf("CC%d", i%20),
			},
		},
	}
}

func openBenchStore(b *testing.B) *sqlstore.Store {
	b.Helper()
	s, err := sqlstore.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkApplyUsersCreate loads 100,000 users into an empty database
// through ApplyUsers in 500-user batches, as a first full sync does. The
// store names the users in the first case; in the second the caller does,
// with random (version 4) UUIDs, which scatter inserts over the id index.
//
//	go test -run '^$' -bench ApplyUsersCreate -benchtime 1x ./storage/sqlstore
func BenchmarkApplyUsersCreate(b *testing.B) {
	b.Run("store-ids", func(b *testing.B) { benchmarkCreate(b, func(int) string { return "" }) })
	b.Run("random-ids", func(b *testing.B) { benchmarkCreate(b, func(int) string { return randomUUID() }) })
}

func benchmarkCreate(b *testing.B, id func(i int) string) {
	batches := make([]storage.UserBatch, 0, benchUsers/benchBatch)
	for start := 0; start < benchUsers; start += benchBatch {
		var batch storage.UserBatch
		for i := start; i < start+benchBatch; i++ {
			w := syncedUser(i)
			w.User.ID = id(i)
			batch.Create = append(batch.Create, w)
		}
		batches = append(batches, batch)
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s := openBenchStore(b)
		b.StartTimer()
		began := time.Now()
		for _, batch := range batches {
			if err := s.ApplyUsers(b.Context(), "source:bench", batch); err != nil {
				b.Fatalf("ApplyUsers: %v", err)
			}
		}
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(b.N*benchUsers)/elapsed.Seconds(), "users/s")
}

func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// seedSyncedUsers creates n synced users in batches, with ids that sort
// by number, and returns the ids.
func seedSyncedUsers(b *testing.B, s *sqlstore.Store, n int) []string {
	b.Helper()
	users := n
	ids := make([]string, users)
	for start := 0; start < users; start += benchBatch {
		var batch storage.UserBatch
		for i := start; i < start+benchBatch; i++ {
			w := syncedUser(i)
			w.User.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			ids[i] = w.User.ID
			batch.Create = append(batch.Create, w)
		}
		if err := s.ApplyUsers(b.Context(), "source:bench", batch); err != nil {
			b.Fatalf("ApplyUsers: %v", err)
		}
	}
	return ids
}

// BenchmarkApplyUsersUpdate rewrites 500-user batches of existing users,
// as a sync does when every record changed.
func BenchmarkApplyUsersUpdate(b *testing.B) {
	const users = 20_000
	s := openBenchStore(b)
	ids := seedSyncedUsers(b, s, users)
	round := 0
	var written int
	began := time.Now()
	for b.Loop() {
		round++
		start := (round * benchBatch) % users
		var batch storage.UserBatch
		for i := start; i < start+benchBatch; i++ {
			w := syncedUser(i)
			w.User.ID, w.User.Title, w.Hash = ids[i], fmt.Sprint("Title ", round), fmt.Sprint(round)
			batch.Update = append(batch.Update, w)
		}
		if err := s.ApplyUsers(b.Context(), "source:bench", batch); err != nil {
			b.Fatalf("ApplyUsers: %v", err)
		}
		written += benchBatch
	}
	b.ReportMetric(float64(written)/time.Since(began).Seconds(), "users/s")
}
