package sqlstore

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore/pgtest"
)

// On PostgreSQL the stamp is answered from the write notifications; when
// the listening connection dies it falls back to the server's snapshot
// (still correct, one query per read) and then listens again under a new
// epoch, so a page cached before the gap never matches a stamp after it.
func TestPostgresStampListener(t *testing.T) {
	if os.Getenv(pgtest.EnvDSN) == "" {
		t.Skip("needs " + pgtest.EnvDSN)
	}
	s, err := Open(t.Context(), pgtest.FreshSchema(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	read := func() string {
		t.Helper()
		v, ok, err := s.ReadStamp(t.Context())
		if err != nil || !ok {
			t.Fatalf("ReadStamp = %q, %v, %v", v, ok, err)
		}
		return v
	}
	first := read()
	if !strings.HasPrefix(first, "n1.") {
		t.Fatalf("stamp after open = %q, want one answered from the notifications (n1.)", first)
	}
	// Quiet for longer than a heartbeat: the same connection goes on
	// (its heartbeats keep it trusted) and the stamp stays put.
	time.Sleep(heartbeatEvery + heartbeatEvery/2)
	if again := read(); again != first {
		t.Fatalf("stamp moved without a write: %q -> %q", first, again)
	}
	// Cut this store's listening connection (only this schema's: other
	// packages' tests share the server) from the server side.
	var channel string
	if err := s.db.Raw("SELECT " + stampChannel).Scan(&channel).Error; err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := s.db.Raw(`SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = ?) k`, listenerName(channel)).Scan(&killed).Error; err != nil || killed != 1 {
		t.Fatalf("terminated %d listening connections (%v), want 1", killed, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	sawFallback := false
	for {
		v := read()
		sawFallback = sawFallback || strings.HasPrefix(v, "s")
		if strings.HasPrefix(v, "n") && !strings.HasPrefix(v, "n1.") {
			break // listening again, under a new epoch
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener did not come back: stamp %q (fallback seen: %v)", v, sawFallback)
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := read()
	if _, err := s.CreateUser(t.Context(), storage.User{UserName: "ada", Active: true, Owner: "test"}); err != nil {
		t.Fatal(err)
	}
	if after := read(); after == before {
		t.Errorf("this store's own write did not move the stamp at once (%q)", after)
	}
}
