package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

var auditTests = []subtest{
	{"AddList", testAudit},
	{"Empty", testAuditEmpty},
}

func testAudit(t *testing.T, s storage.Store) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	var added []storage.AuditEntry
	before := time.Now()
	for i := range 5 {
		e := storage.AuditEntry{Actor: "admin", Action: "source.update", Target: fmt.Sprint("src-", i), Detail: fmt.Sprint("edit ", i)}
		if i == 0 {
			e.At, e.Actor, e.Action, e.Detail = at, "cli", "token.create", ""
		}
		if err := s.AddAudit(ctx(t), e); err != nil {
			t.Fatalf("AddAudit %d: %v", i, err)
		}
		added = append(added, e)
	}
	after := time.Now()

	first, err := s.ListAudit(ctx(t), 3, 0)
	if err != nil || len(first) != 3 {
		t.Fatalf("ListAudit(3, 0) = %v, %v; want 3 entries", first, err)
	}
	rest, err := s.ListAudit(ctx(t), 3, first[2].ID)
	if err != nil || len(rest) != 2 {
		t.Fatalf("ListAudit(3, %d) = %v, %v; want the 2 older entries", first[2].ID, rest, err)
	}
	all := append(first, rest...)
	for i, got := range all {
		want := added[len(added)-1-i] // newest first
		if i > 0 && got.ID >= all[i-1].ID {
			t.Errorf("ListAudit ids not descending: %d after %d", got.ID, all[i-1].ID)
		}
		if got.Actor != want.Actor || got.Action != want.Action || got.Target != want.Target || got.Detail != want.Detail {
			t.Errorf("entry %d = %+v, want %+v", i, got, want)
		}
		if !want.At.IsZero() {
			if !got.At.Equal(want.At) {
				t.Errorf("entry %d: At = %v, want %v as given", i, got.At, want.At)
			}
		} else if got.At.Before(before.Add(-time.Second)) || got.At.After(after.Add(time.Second)) {
			t.Errorf("entry %d: At = %v, want the time it was added", i, got.At)
		}
	}
}

func testAuditEmpty(t *testing.T, s storage.Store) {
	got, err := s.ListAudit(ctx(t), 10, 0)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListAudit on an empty store = %#v, %v; want an empty list", got, err)
	}
}
