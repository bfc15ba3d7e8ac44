package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// linkBenchRecords is how many records one round of the linking benchmark
// writes, in benchBatch batches.
const linkBenchRecords = 5_000

// benchContribution is syncedUser(i) as a contribution to person, linked
// by its employee number.
func benchContribution(i int, person, linkedBy string) storage.ContributionWrite {
	w := syncedUser(i)
	w.User.ID = person
	return storage.ContributionWrite{UserWrite: w, LinkedBy: linkedBy,
		LinkKeys: []storage.LinkKey{{Name: "employeeId", Value: w.User.Enterprise.EmployeeNumber}}}
}

func benchPerson(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func benchSource(b *testing.B, s *sqlstore.Store, name string, prec int, authoritative ...string) storage.Source {
	b.Helper()
	src, err := s.CreateSource(b.Context(), storage.Source{Name: name, Kind: "csv", Precedence: prec,
		Link: map[string]string{"employeeId": "{id}"}, Authoritative: authoritative})
	if err != nil {
		b.Fatalf("CreateSource: %v", err)
	}
	return src
}

// applyContributions writes records [0, n) of src in benchBatch batches,
// each built by w.
func applyContributions(b *testing.B, s *sqlstore.Store, src storage.Source, n int, w func(i int) storage.ContributionWrite) {
	b.Helper()
	for start := 0; start < n; start += benchBatch {
		var batch storage.ContributionBatch
		for i := start; i < min(start+benchBatch, n); i++ {
			batch.Upsert = append(batch.Upsert, w(i))
		}
		if _, err := s.ApplyContributions(b.Context(), src.ID, batch); err != nil {
			b.Fatalf("ApplyContributions: %v", err)
		}
	}
}

// BenchmarkApplyContributions writes 5,000 records in 500-record batches,
// on a fresh database each round, and reports the time per record. The
// cases: plain (ApplyUsers creating them, the baseline), plain-update
// (ApplyUsers rewriting them with a new title), new-people
// (ApplyContributions making each a new person) and linked (a second
// source's records, each linking to a person of a first source written
// before the clock runs and authoritative for its title, so every person
// is merged from two records and rewritten). On SQLite, and on PostgreSQL
// when SCIMGATE_TEST_POSTGRES names a server (scripts/postgres.sh run).
//
//	go test -run '^$' -bench ApplyContributions -benchtime 3x ./storage/sqlstore
func BenchmarkApplyContributions(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(b *testing.B) *sqlstore.Store
	}{
		{"sqlite", openBenchStore},
		{"postgres", func(b *testing.B) *sqlstore.Store {
			s, err := sqlstore.Open(b.Context(), pgtest.FreshSchema(b), sqlstore.Options{})
			if err != nil {
				b.Fatalf("Open: %v", err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		b.Run(db.name, func(b *testing.B) {
			if db.name == "postgres" {
				pgtest.DSN(b) // skips without a server
			}
			benchmarkLinkCases(b, db.open)
		})
	}
}

func benchmarkLinkCases(b *testing.B, open func(b *testing.B) *sqlstore.Store) {
	b.Run("plain", func(b *testing.B) {
		benchmarkRecords(b, open, func(*sqlstore.Store) {}, func(s *sqlstore.Store) { plainUsers(b, s, false) })
	})
	b.Run("plain-update", func(b *testing.B) {
		benchmarkRecords(b, open, func(s *sqlstore.Store) { plainUsers(b, s, false) }, func(s *sqlstore.Store) { plainUsers(b, s, true) })
	})
	b.Run("new-people", func(b *testing.B) {
		var ad storage.Source
		benchmarkRecords(b, open, func(s *sqlstore.Store) { ad = benchSource(b, s, "ad", 10) }, func(s *sqlstore.Store) {
			applyContributions(b, s, ad, linkBenchRecords, func(i int) storage.ContributionWrite {
				return benchContribution(i, benchPerson(i), "")
			})
		})
	})
	b.Run("linked", func(b *testing.B) {
		var hr storage.Source
		benchmarkRecords(b, open, func(s *sqlstore.Store) {
			ad := benchSource(b, s, "ad", 10)
			hr = benchSource(b, s, "hr", 20, "title")
			applyContributions(b, s, ad, linkBenchRecords, func(i int) storage.ContributionWrite {
				return benchContribution(i, benchPerson(i), "")
			})
		}, func(s *sqlstore.Store) {
			applyContributions(b, s, hr, linkBenchRecords, func(i int) storage.ContributionWrite {
				w := benchContribution(i, benchPerson(i), "employeeId")
				w.Key, w.User.UserName, w.User.Title = "hr-"+w.Key, "hr-"+w.User.UserName, "HR title"
				return w
			})
		})
	})
}

// benchmarkRecords times write on a fresh store that setup has prepared,
// and reports ns per record of linkBenchRecords.
func benchmarkRecords(b *testing.B, open func(b *testing.B) *sqlstore.Store, setup, write func(s *sqlstore.Store)) {
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		setup(s)
		b.StartTimer()
		began := time.Now()
		write(s)
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*linkBenchRecords), "ns/record")
}

// plainUsers writes the benchmark's records as a plain source's users:
// created, or (update) rewritten with a new title.
func plainUsers(b *testing.B, s *sqlstore.Store, update bool) {
	b.Helper()
	for start := 0; start < linkBenchRecords; start += benchBatch {
		var batch storage.UserBatch
		for i := start; i < start+benchBatch; i++ {
			w := syncedUser(i)
			w.User.ID = benchPerson(i)
			if update {
				w.User.Title, w.Hash = "HR title", "changed"
				batch.Update = append(batch.Update, w)
			} else {
				batch.Create = append(batch.Create, w)
			}
		}
		if err := s.ApplyUsers(b.Context(), "source:bench", batch); err != nil {
			b.Fatalf("ApplyUsers: %v", err)
		}
	}
}
