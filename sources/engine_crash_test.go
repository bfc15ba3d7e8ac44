package sources_test

import (
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
	"github.com/scimgate/scimgate/storage"
)

func TestACrashingSourceFailsItsRunNotTheServer(t *testing.T) {
	tests := []struct {
		name  string
		crash func(d *sourcetest.Dataset, v any)
	}{
		{"panic in Sync", (*sourcetest.Dataset).Panic},
		{"panic in a goroutine the source started", (*sourcetest.Dataset).PanicAside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, storage.DeletionPolicy{})
			e.ds.SetUsers(sourcetest.User("k1", "ann@example.com"), sourcetest.User("k2", "bob@example.com"))
			tt.crash(e.ds, "index out of range [3] with length 3")
			r := e.run(t, sources.Trigger{})
			if r.Status != storage.RunFailed || !strings.Contains(r.Error, "the fake source crashed") || !strings.Contains(r.Error, "index out of range") {
				t.Fatalf("run %s: %q", r.Status, r.Error)
			}
			if len(r.Cursor) != 0 {
				t.Errorf("a crashed run kept cursor %q", r.Cursor)
			}

			// The runner goes on: the next run of the fixed source succeeds.
			tt.crash(e.ds, nil)
			r = e.run(t, sources.Trigger{})
			if r.Status != storage.RunSucceeded || r.Counts.Created != 2 {
				t.Fatalf("run after the crash: %s %+v %s", r.Status, r.Counts, r.Error)
			}
		})
	}
}
