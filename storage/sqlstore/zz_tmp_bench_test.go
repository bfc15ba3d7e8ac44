package sqlstore_test

import (
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

func BenchmarkTmpCreateUsers(b *testing.B) {
	var batches [][]storage.User
	for start := 0; start < benchUsers; start += benchBatch {
		var batch []storage.User
		for i := start; i < start+benchBatch; i++ {
			batch = append(batch, syncedUser(i).User)
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
			if _, err := s.CreateUsers(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(began)
	}
	b.ReportMetric(float64(b.N*benchUsers)/elapsed.Seconds(), "users/s")
}
