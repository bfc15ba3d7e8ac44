package sqlstore

import (
	"path/filepath"
	"testing"
)

func TestTmpPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		syncedUserSelect + " WHERE owner = 'a' AND source_key IN ('x','y')",
		syncedUserSelect + " WHERE owner = 'a' AND source_key > '' ORDER BY source_key LIMIT 1000",
		syncedGroupSelect + " WHERE owner = 'a' AND source_key > '' ORDER BY source_key LIMIT 1000",
		`SELECT (SELECT COUNT(*) FROM users WHERE owner = 'a'), (SELECT COUNT(*) FROM groups WHERE owner = 'a')`,
		`SELECT user_name, id FROM users WHERE user_name IN ('a','b')`,
		runSelect + " WHERE source_id = 'a' ORDER BY queued DESC, seq DESC LIMIT 5",
		`UPDATE users SET source_key = v.column2, sync_hash = v.column3 FROM (VALUES ('a','b','c')) AS v WHERE users.id = v.column1`,
		`SELECT seq, action FROM run_changes WHERE run_id = 'x' ORDER BY seq LIMIT 5 OFFSET 10`,
	} {
		rows, err := s.sqlDB.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q[:min(len(q), 60)])
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			t.Log("   ", d)
		}
		rows.Close()
	}
}
