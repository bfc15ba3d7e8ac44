package oktatest

import (
	"maps"
	"net/http"
	"slices"
	"time"
)

// Stats is what clients sent the org.
type Stats struct {
	// Requests counts every request that reached the org, refused or not.
	Requests int
	// ByBucket counts requests per rate-limit bucket.
	ByBucket map[string]int
	// OverBudget counts requests that arrived while their bucket's budget
	// was spent (each got a 429).
	OverBudget int
	// OverConcurrency counts requests refused for the concurrency limit.
	OverConcurrency int
	// PeakInFlight is the most requests the org served at once.
	PeakInFlight int
	// Log lists the requests in arrival order.
	Log []Request
}

// Request is one logged request.
type Request struct {
	At     time.Time
	Method string
	Path   string
	Query  string
	Bucket string
	Status int
	// Reset is the X-Rate-Limit-Reset a 429 announced (zero otherwise).
	Reset time.Time
}

func newStats() Stats { return Stats{ByBucket: map[string]int{}} }

func (s *Server) record(r *http.Request, bucket string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(r, bucket, status)
}

func (s *Server) recordLocked(r *http.Request, bucket string, status int) {
	s.stats.Requests++
	s.stats.ByBucket[bucket]++
	s.stats.Log = append(s.stats.Log, Request{At: s.clock.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Bucket: bucket, Status: status})
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.ByBucket = maps.Clone(s.stats.ByBucket)
	c.Log = slices.Clone(s.stats.Log)
	return c
}

// ResetStats zeroes the counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
}
