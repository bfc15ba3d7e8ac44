package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// countCache remembers COUNT results until the next write. A count is a
// scan of every match (a million rows for an unfiltered walk of a large
// directory, two thousand for a department) and lists ask for one on
// nearly every page, while directories are read far more than written.
//
// Every write transaction ends by moving the store's generation on (see
// Store.write), which empties the cache; a count is stored under the
// generation read before it ran, so one that raced a write is never served
// after that write. All writes to users and groups go through Store.write.
// That holds only for a database one process writes: on PostgreSQL, where
// other replicas write too, the dialect switches the cache off.
type countCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]countEntry
}

// countEntry is one cached count. A count of an app's view also holds
// the grace cutoff it was taken at and the earliest departure it counted:
// it stays true until that departure's grace ends.
type countEntry struct {
	n        int
	from     int64 // the cutoff the count was taken at
	until    int64 // the earliest counted leave time, when hasUntil
	hasUntil bool
}

// countGrace is how a count of an app's view is cached: under key (which
// stands for the view's table and its arguments, without the cutoff), and
// served while the cutoff now has not reached a departure it counted.
type countGrace struct {
	key    string
	cutoff int64
	whole  string // the table to count from when nothing is filtered
}

// covers reports whether e is still the count at g's cutoff.
func (e countEntry) covers(g *countGrace) bool {
	if g == nil {
		return true
	}
	return e.from <= g.cutoff && (!e.hasUntil || g.cutoff < e.until)
}

// maxCachedCounts bounds the cache; distinct filters between two writes
// are few in practice, but a client could send many.
const maxCachedCounts = 1024

func (c *countCache) get(gen uint64, key string) (countEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return countEntry{}, false
	}
	e, ok := c.entries[key]
	return e, ok
}

func (c *countCache) put(gen uint64, key string, e countEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return // counted before a write that has finished since
	case gen > c.gen || c.entries == nil || len(c.entries) >= maxCachedCounts:
		c.gen, c.entries = gen, make(map[string]countEntry)
	}
	c.entries[key] = e
}

// count returns the number of rows of p's table matching its filter.
func (s *Store) count(ctx context.Context, p page) (int, error) {
	cache := s.dialect.cacheCounts
	args := p.allArgs()
	var key string
	if p.grace != nil {
		key = fmt.Sprintf("%s\x00%s\x00%#v", p.grace.key, p.where, p.args)
	} else {
		key = fmt.Sprintf("%s\x00%s\x00%#v", p.table, p.where, args)
	}
	gen := s.gen.Load()
	if e, ok := s.counts.get(gen, key); cache && ok && e.covers(p.grace) {
		return e.n, nil
	}
	sel := "COUNT(*)"
	if p.grace != nil {
		sel = "COUNT(*), MIN(users.left_at)"
	}
	table := p.table
	if p.grace != nil && p.where == "1=1" {
		table = p.grace.whole
	}
	rows, err := s.query(ctx, "SELECT "+sel+" FROM "+table+" WHERE "+p.where, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var e countEntry
	if rows.Next() {
		dest := []any{&e.n}
		var earliest sql.NullInt64
		if p.grace != nil {
			dest = append(dest, &earliest)
		}
		if err := rows.Scan(dest...); err != nil {
			return 0, translate(err)
		}
		if p.grace != nil {
			e.from, e.until, e.hasUntil = p.grace.cutoff, earliest.Int64, earliest.Valid
		}
	}
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	if cache {
		s.counts.put(gen, key, e)
	}
	return e.n, nil
}
