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
	{"Filters", testAuditFilters},
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

	first, err := s.ListAudit(ctx(t), storage.AuditQuery{Limit: 3})
	if err != nil || len(first) != 3 {
		t.Fatalf("ListAudit(3, 0) = %v, %v; want 3 entries", first, err)
	}
	rest, err := s.ListAudit(ctx(t), storage.AuditQuery{Limit: 3, Before: first[2].ID})
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
	got, err := s.ListAudit(ctx(t), storage.AuditQuery{Limit: 10})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListAudit on an empty store = %#v, %v; want an empty list", got, err)
	}
}

// testAuditFilters checks each filter alone and combined, and paging
// through a filtered list by id.
func testAuditFilters(t *testing.T, s storage.Store) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	entries := []storage.AuditEntry{
		{Actor: "alice", Action: "source.create", Target: "src-1", At: day.Add(1 * time.Hour)},
		{Actor: "bob", Action: "token.create", Target: "crm-prod", At: day.Add(2 * time.Hour)},
		{Actor: "alice", Action: "source.patch", Target: "src-1", At: day.Add(25 * time.Hour)},
		{Actor: "alice", Action: "app.create", Target: "app-1", At: day.Add(26 * time.Hour)},
		{Actor: "bob", Action: "source.sync", Target: "src-1", At: day.Add(49 * time.Hour)},
		{Actor: "Alice", Action: "token.revoke", Target: "crm-prod", At: day.Add(50 * time.Hour)},
	}
	for i, e := range entries {
		if err := s.AddAudit(ctx(t), e); err != nil {
			t.Fatalf("AddAudit %d: %v", i, err)
		}
	}
	cases := []struct {
		name string
		q    storage.AuditQuery
		want []string // actions, newest first
	}{
		{"actor", storage.AuditQuery{Actor: "alice"}, []string{"app.create", "source.patch", "source.create"}},
		{"actor is exact", storage.AuditQuery{Actor: "Alice"}, []string{"token.revoke"}},
		{"target", storage.AuditQuery{Target: "src-1"}, []string{"source.sync", "source.patch", "source.create"}},
		{"since", storage.AuditQuery{Since: day.Add(49 * time.Hour)}, []string{"token.revoke", "source.sync"}},
		{"until excludes its instant", storage.AuditQuery{Until: day.Add(25 * time.Hour)}, []string{"token.create", "source.create"}},
		{"a day", storage.AuditQuery{Since: day.Add(24 * time.Hour), Until: day.Add(48 * time.Hour)}, []string{"app.create", "source.patch"}},
		{"actor, target and time", storage.AuditQuery{Actor: "alice", Target: "src-1", Since: day.Add(24 * time.Hour)}, []string{"source.patch"}},
		{"nothing matches", storage.AuditQuery{Actor: "carol"}, []string{}},
		{"limit", storage.AuditQuery{Target: "src-1", Limit: 2}, []string{"source.sync", "source.patch"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx(t), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("ListAudit returned nil, want an empty list")
			}
			if acts := auditActions(got); fmt.Sprint(acts) != fmt.Sprint(tc.want) {
				t.Errorf("ListAudit(%+v) = %v, want %v", tc.q, acts, tc.want)
			}
		})
	}
	t.Run("paging a filtered list", func(t *testing.T) {
		q := storage.AuditQuery{Target: "src-1", Limit: 2}
		first, err := s.ListAudit(ctx(t), q)
		if err != nil || len(first) != 2 {
			t.Fatalf("first page = %v, %v", first, err)
		}
		q.Before = first[len(first)-1].ID
		rest, err := s.ListAudit(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		if acts := auditActions(rest); fmt.Sprint(acts) != "[source.create]" {
			t.Errorf("second page = %v, want [source.create]", acts)
		}
	})
}

func auditActions(entries []storage.AuditEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
	}
	return out
}
