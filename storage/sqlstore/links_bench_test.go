package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
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

func benchSource(b *testing.B, s *sqlstore.Store, name string, prec int) storage.Source {
	b.Helper()
	src, err := s.CreateSource(b.Context(), storage.Source{Name: name, Kind: "csv", Precedence: prec,
		Link: map[string]string{"employeeId": "{id}"}})
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
// cases: plain (ApplyUsers creating them, the baseline), new-people
// (ApplyContributions making each a new person) and linked (a second
// source's records, each linking to a person of a first source written
// before the clock runs, so every person is merged from two records).
//
//	go test -run '^$' -bench ApplyContributions -benchtime 3x ./storage/sqlstore
func BenchmarkApplyContributions(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		benchmarkRecords(b, func(*sqlstore.Store) {}, func(s *sqlstore.Store) {
			for start := 0; start < linkBenchRecords; start += benchBatch {
				var batch storage.UserBatch
				for i := start; i < start+benchBatch; i++ {
					w := syncedUser(i)
					w.User.ID = benchPerson(i)
					batch.Create = append(batch.Create, w)
				}
				if err := s.ApplyUsers(b.Context(), "source:bench", batch); err != nil {
					b.Fatalf("ApplyUsers: %v", err)
				}
			}
		})
	})
	b.Run("new-people", func(b *testing.B) {
		var ad storage.Source
		benchmarkRecords(b, func(s *sqlstore.Store) { ad = benchSource(b, s, "ad", 10) }, func(s *sqlstore.Store) {
			applyContributions(b, s, ad, linkBenchRecords, func(i int) storage.ContributionWrite {
				return benchContribution(i, benchPerson(i), "")
			})
		})
	})
	b.Run("linked", func(b *testing.B) {
		var hr storage.Source
		benchmarkRecords(b, func(s *sqlstore.Store) {
			ad := benchSource(b, s, "ad", 10)
			hr = benchSource(b, s, "hr", 20)
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
func benchmarkRecords(b *testing.B, setup, write func(s *sqlstore.Store)) {
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		s := openBenchStore(b)
		setup(s)
		b.StartTimer()
		began := time.Now()
		write(s)
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*linkBenchRecords), "ns/record")
}
