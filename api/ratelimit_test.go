package api

import (
	"fmt"
	"testing"
	"time"
)

// TestFailureLimiterIsBounded: a spray from more addresses than the table
// holds evicts the address that failed longest ago, and never grows it.
func TestFailureLimiterIsBounded(t *testing.T) {
	l := newFailureLimiter(2)
	l.maxAddrs = 3
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l.fail("victim", now)
	l.fail("victim", now)
	if _, blocked := l.blocked("victim", now); !blocked {
		t.Fatal("victim not blocked after 2 failures")
	}
	for i := range 100 {
		l.fail(fmt.Sprint("spray-", i), now.Add(time.Duration(i)*time.Millisecond))
		if n := len(l.byAddr); n > 3 || n != l.order.Len() {
			t.Fatalf("after %d spray addresses: %d in the map, %d in the order", i+1, n, l.order.Len())
		}
	}
	if _, blocked := l.blocked("victim", now); blocked {
		t.Error("the oldest address was not the one evicted")
	}
	if _, blocked := l.blocked("spray-99", now.Add(time.Second)); blocked {
		t.Error("one failure blocks")
	}
	// Expired entries leave the table when looked at.
	if _, blocked := l.blocked("spray-99", now.Add(2*time.Minute)); blocked || l.byAddr["spray-99"] != nil {
		t.Error("an expired entry is kept")
	}
}

func TestTokenBucketsRetryAfter(t *testing.T) {
	b := newTokenBuckets(4, 0) // burst defaults to twice the rate
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 8 {
		if _, ok := b.take("t", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := b.take("t", now)
	if ok || wait != 250*time.Millisecond || retryAfterSeconds(wait) != 1 {
		t.Errorf("9th: ok %v, wait %v", ok, wait)
	}
	// A clock that steps back refills nothing and breaks nothing.
	if _, ok := b.take("t", now.Add(-time.Hour)); ok {
		t.Error("a clock step back refilled the bucket")
	}
}
