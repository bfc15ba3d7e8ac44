package sqlstore

import (
	"context"
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
	entries map[string]int
}

// maxCachedCounts bounds the cache; distinct filters between two writes
// are few in practice, but a client could send many.
const maxCachedCounts = 1024

func (c *countCache) get(gen uint64, key string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return 0, false
	}
	n, ok := c.entries[key]
	return n, ok
}

func (c *countCache) put(gen uint64, key string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return // counted before a write that has finished since
	case gen > c.gen || c.entries == nil || len(c.entries) >= maxCachedCounts:
		c.gen, c.entries = gen, make(map[string]int)
	}
	c.entries[key] = n
}

// count returns the number of rows of table matching where.
func (s *Store) count(ctx context.Context, table, where string, args []any) (int, error) {
	cache := s.dialect.cacheCounts
	key := fmt.Sprintf("%s\x00%s\x00%#v", table, where, args)
	gen := s.gen.Load()
	if n, ok := s.counts.get(gen, key); cache && ok {
		return n, nil
	}
	rows, err := s.query(ctx, "SELECT COUNT(*) FROM "+table+" WHERE "+where, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, translate(err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, translate(err)
	}
	if cache {
		s.counts.put(gen, key, n)
	}
	return n, nil
}
