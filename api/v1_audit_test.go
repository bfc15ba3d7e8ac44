package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// seedAudit adds entries at fixed times (2026-03-01 and the two days
// after), as other admins' actions would have.
func seedAudit(t *testing.T, e *apiEnv) time.Time {
	t.Helper()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, en := range []storage.AuditEntry{
		{Actor: "alice", Action: "source.create", Target: "src-hr", At: day.Add(1 * time.Hour)},
		{Actor: "bob", Action: "token.create", Target: "crm-prod", At: day.Add(2 * time.Hour)},
		{Actor: "alice", Action: "source.patch", Target: "src-hr", At: day.Add(25 * time.Hour)},
		{Actor: "alice", Action: "app.create", Target: "app-crm", At: day.Add(26 * time.Hour)},
		{Actor: "bob", Action: "source.sync", Target: "src-hr", At: day.Add(49 * time.Hour)},
	} {
		if err := e.Store.AddAudit(context.Background(), en); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	return day
}

func auditActionsOf(r *apiResp) []string {
	var out []string
	list, _ := r.Body["entries"].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, fmt.Sprint(m["action"]))
	}
	return out
}

func TestAuditFilters(t *testing.T) { forEachAPIStore(t, testAuditFilters) }

func testAuditFilters(t *testing.T, e *apiEnv) {
	day := seedAudit(t, e)
	at := func(h int) string { return day.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	cases := []struct {
		name  string
		query url.Values
		want  string
	}{
		{"actor", url.Values{"actor": {"alice"}}, "[app.create source.patch source.create]"},
		{"target", url.Values{"target": {"src-hr"}}, "[source.sync source.patch source.create]"},
		{"since", url.Values{"since": {at(48)}}, "[source.sync]"},
		{"until", url.Values{"until": {at(24)}}, "[token.create source.create]"},
		{"one day by one actor", url.Values{"actor": {"alice"}, "since": {at(24)}, "until": {at(48)}}, "[app.create source.patch]"},
		{"target and limit", url.Values{"target": {"src-hr"}, "limit": {"1"}}, "[source.sync]"},
		{"no match", url.Values{"actor": {"carol"}}, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(t, "GET", "/api/v1/audit?"+tc.query.Encode(), e.Admin, nil).want(t, 200)
			if got := fmt.Sprint(auditActionsOf(r)); got != tc.want {
				t.Errorf("actions %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("paging keeps the filter", func(t *testing.T) {
		first := e.call(t, "GET", "/api/v1/audit?target=src-hr&limit=2", e.Admin, nil).want(t, 200)
		list, _ := first.Body["entries"].([]any)
		last, _ := list[len(list)-1].(map[string]any)
		next := e.call(t, "GET", fmt.Sprintf("/api/v1/audit?target=src-hr&limit=2&before=%v", last["id"]), e.Admin, nil).want(t, 200)
		if got := fmt.Sprint(auditActionsOf(next)); got != "[source.create]" {
			t.Errorf("second page %s, want [source.create]", got)
		}
	})
}

func TestAuditFilterProblems(t *testing.T) {
	e := newAPIEnv(t)
	cases := []struct {
		name, query, field string
	}{
		{"since not a time", "since=yesterday", "since"},
		{"until not a time", "until=2026-13-01", "until"},
		{"until before since", "since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z", "until"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eobj := e.call(t, "GET", "/api/v1/audit?"+tc.query, e.Admin, nil).wantErr(t, 400, "bad_request")
			fields, _ := eobj["fields"].(map[string]any)
			if fields[tc.field] == nil {
				t.Errorf("error %v names no field %s", eobj, tc.field)
			}
		})
	}
	e.call(t, "GET", "/api/v1/audit?actor=alice", e.Reader, nil).want(t, 403)
}
