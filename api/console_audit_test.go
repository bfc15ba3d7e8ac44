package api_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// auditRows are the actions of the audit page's rows, in order.
var auditRow = regexp.MustCompile(`</a></td>\s*<td>([a-z.]+)</td>`)

func auditRowsOf(p uiPage) string {
	var out []string
	for _, m := range auditRow.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return fmt.Sprint(out)
}

func TestConsoleAuditFilters(t *testing.T) {
	env := newAPIEnv(t)
	seedAudit(t, env) // 2026-03-01 to 03
	u := signedIn(t, env)
	u.get(t, "/ui/audit").want(t, http.StatusOK, `<label for="audit-actor">Actor</label>`, `<label for="audit-target">Object</label>`,
		`<label for="audit-from">From</label>`, `<label for="audit-to">To</label>`)
	cases := []struct {
		name, query, want string
	}{
		{"actor", "actor=alice", "[app.create source.patch source.create]"},
		{"object", "target=src-hr", "[source.sync source.patch source.create]"},
		{"one day", "from=2026-03-02&to=2026-03-02", "[app.create source.patch]"},
		{"from a day on, by an actor", "actor=bob&from=2026-03-02", "[source.sync]"},
		{"up to a day", "to=2026-03-01", "[token.create source.create]"},
		{"nothing", "actor=carol", "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := u.get(t, "/ui/audit?"+tc.query).want(t, http.StatusOK)
			if got := auditRowsOf(p); got != tc.want {
				t.Errorf("rows %s, want %s", got, tc.want)
			}
		})
	}
	// The filters stay in the form.
	u.get(t, "/ui/audit?actor=alice&from=2026-03-03").want(t, http.StatusOK, `id="audit-actor" name="actor" type="text" value="alice"`,
		`id="audit-from" name="from" type="text" inputmode="numeric" placeholder="YYYY-MM-DD" autocomplete="off" value="2026-03-03"`, "No entries match these filters")
}

func TestConsoleAuditProblems(t *testing.T) {
	env := newAPIEnv(t)
	u := signedIn(t, env)
	cases := []struct {
		name, query, input, text string
	}{
		{"not a date", "from=yesterday", "audit-from", "a date such as"},
		{"to before from", "from=2026-03-05&to=2026-03-01", "audit-to", "must be later than since"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := u.get(t, "/ui/audit?"+tc.query).want(t, http.StatusUnprocessableEntity)
			m := regexp.MustCompile(`<p id="` + tc.input + `-error" class="field-error">([^<]+)</p>`).FindStringSubmatch(p.Body)
			if m == nil || !strings.Contains(m[1], tc.text) {
				t.Fatalf("message next to %s: %v, want %q\n%s", tc.input, m, tc.text, p.Body)
			}
		})
	}
}

func TestConsoleAuditOlder(t *testing.T) {
	env := newAPIEnv(t)
	day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		actor := "alice"
		if i%2 == 1 {
			actor = "bob"
		}
		e := storage.AuditEntry{Actor: actor, Action: "source.patch", Target: fmt.Sprintf("src-%02d", i), At: day.Add(time.Duration(i) * time.Minute)}
		if err := env.Store.AddAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	u := signedIn(t, env)
	// bob has 30 entries: one page of them, and no Older.
	if p := u.get(t, "/ui/audit?actor=bob").want(t, http.StatusOK); strings.Contains(p.Body, ">Older</a>") || strings.Count(p.Body, "<td>source.patch</td>") != 30 {
		t.Fatalf("bob's page: %d rows, Older shown: %v", strings.Count(p.Body, "<td>source.patch</td>"), strings.Contains(p.Body, ">Older</a>"))
	}
	first := u.get(t, "/ui/audit").want(t, http.StatusOK, "src-59", ">Older</a>")
	if strings.Contains(first.Body, "src-09") {
		t.Fatal("the first page reaches the older entries")
	}
	m := regexp.MustCompile(`href="(/ui/audit\?before=\d+)">Older</a>`).FindStringSubmatch(first.Body)
	if m == nil {
		t.Fatalf("no Older link:\n%s", first.Body)
	}
	older := u.get(t, strings.ReplaceAll(m[1], "&amp;", "&")).want(t, http.StatusOK, "src-09", "src-00")
	if strings.Contains(older.Body, "src-59") || strings.Contains(older.Body, ">Older</a>") {
		t.Error("the older page repeats newer entries or offers more")
	}
}
