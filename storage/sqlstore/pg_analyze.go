package sqlstore

import (
	"context"
	"sync/atomic"
)

// growthStats counts rows bulk-inserted by this process, so that
// PostgreSQL's planner statistics can be refreshed while a first large
// sync fills empty tables. Autovacuum analyses only about once a minute;
// until it does, plans (and the generic plans of prepared statements,
// kept per connection) are made for empty tables: a sync's 1,000-key
// lookups then scanned every row of the source instead of using the
// (owner, source_key) index.
type growthStats struct {
	inserted atomic.Int64
	// next is the insert count at which to analyse next; it grows
	// fourfold each time, so a process analyses a handful of times at
	// most, all while the tables are young.
	next atomic.Int64
}

// firstAnalyzeAt is the insert count of the first refresh.
const firstAnalyzeAt = 4000

// analyzeIfGrown runs ANALYZE on the directory tables once enough rows
// have been inserted since the last time. It runs after the write
// transaction (holding the process's write turn, not the database lock)
// and never fails the write: statistics are an optimisation. app_users
// grows with users (apps' joins), and view reads join it to them.
func (s *Store) analyzeIfGrown(ctx context.Context) {
	if s.dialect.name != postgresDialect.name {
		return
	}
	next := s.stats.next.Load()
	if next == 0 {
		next = firstAnalyzeAt
	}
	if s.stats.inserted.Load() < next {
		return
	}
	s.stats.next.Store(next * 4)
	if _, err := s.writeDB.ExecContext(context.WithoutCancel(ctx), "ANALYZE users, user_values, group_members, app_users"); err != nil {
		s.log.Warn("cannot refresh PostgreSQL statistics", "error", err)
	}
}
