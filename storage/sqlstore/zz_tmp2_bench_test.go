package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

func BenchmarkTmpSeqIDs(b *testing.B) {
	batches := make([]storage.UserBatch, 0, benchUsers/benchBatch)
	for start := 0; start < benchUsers; start += benchBatch {
		var batch storage.UserBatch
		for i := start; i < start+benchBatch; i++ {
			w := syncedUser(i)
			w.User.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			w.Key = fmt.Sprintf("guid-%08d", i)
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
