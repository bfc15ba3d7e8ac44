package scim

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Stamper is implemented by a store that can say, cheaply, whether
// anything it holds changed between two reads: equal stamps mean no write
// committed in between. ok is false when it cannot tell (then nothing is
// cached). The SQL store's stamp is its write generation on SQLite and
// the database's transaction snapshot on PostgreSQL, so a write through
// another replica changes it too.
type Stamper interface {
	ReadStamp(ctx context.Context) (stamp string, ok bool, err error)
}

// DefaultPageCacheBytes bounds the rendered list pages kept between
// writes: a 100-user page is about 76 KB, a userName lookup about 1 KB,
// so this holds the pages of a few hundred filters and ten thousand
// lookups, and no more however large the directory is.
const DefaultPageCacheBytes = 16 << 20

// pageCache keeps rendered list responses until the next write. A hit
// costs no query, no filter parsing and no rendering: a directory is read
// far more often than it is written, and the readers of one app ask the
// same pages again and again (department pages, userName lookups).
//
// Freshness: a page is stored under the stamp read before its query ran
// and served only while the store's stamp is still that one, so the
// request after a write (which changes the stamp before it returns) never
// sees an older page.
type pageCache struct {
	mu       sync.Mutex
	stamp    string
	entries  map[string][]byte
	bytes    int
	maxBytes int
}

func newPageCache(maxBytes int) *pageCache {
	if maxBytes <= 0 {
		return nil
	}
	return &pageCache{maxBytes: maxBytes}
}

func (c *pageCache) get(stamp, key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != stamp {
		return nil, false
	}
	b, ok := c.entries[key]
	return b, ok
}

// put stores a copy of body. A page of another stamp than the cache's
// replaces them all: pages of an older stamp are never served again.
func (c *pageCache) put(stamp, key string, body []byte) {
	size := len(body) + len(key)
	if size > c.maxBytes/8 {
		return // a huge group would push out everything else
	}
	stored := append([]byte(nil), body...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != stamp || c.entries == nil {
		c.stamp, c.entries, c.bytes = stamp, make(map[string][]byte), 0
	}
	if old, ok := c.entries[key]; ok {
		c.bytes -= len(old) + len(key)
		delete(c.entries, key)
	}
	// Evict arbitrary entries (map order) until the page fits: cheap, and
	// the bound on bytes is what keeps the process's memory flat.
	for k, v := range c.entries {
		if c.bytes+size <= c.maxBytes {
			break
		}
		c.bytes -= len(v) + len(k)
		delete(c.entries, k)
	}
	c.entries[key] = stored
	c.bytes += size
}

// cachedList is a list request's place in the page cache: its key and the
// stamp read before the query. The zero value caches nothing.
type cachedList struct {
	key, stamp string
	hit        bool // answered from the cache already
}

// lookupPage answers a list request from the page cache when it can. It
// returns the cachedList to store the rendered page under after a miss.
// Cursor pages are not cached: their cursors carry the time they were
// issued at.
func (s *Server) lookupPage(w http.ResponseWriter, r *http.Request, resource string, p *listParams) cachedList {
	if s.pages == nil || p.cursorMode {
		return cachedList{}
	}
	caller, _ := callerFrom(r.Context())
	view, ok := cacheView(caller)
	if !ok {
		return cachedList{}
	}
	stamp, ok := StampFrom(r.Context())
	if !ok {
		var err error
		if stamp, ok, err = s.stamper.ReadStamp(r.Context()); err != nil || !ok {
			if err != nil {
				s.log.Debug("page cache: no stamp", "err", err)
			}
			return cachedList{}
		}
	}
	key := pageKey(resource, view, s.baseURL(r), p)
	if body, hit := s.pages.get(stamp, key); hit {
		writeBody(w, http.StatusOK, body)
		return cachedList{hit: true}
	}
	return cachedList{key: key, stamp: stamp}
}

// store keeps a rendered page after a miss.
func (s *Server) storePage(c cachedList, body []byte) {
	if c.key != "" {
		s.pages.put(c.stamp, c.key, body)
	}
}

// cacheView is the part of the caller that decides what a list shows, as
// a key; ok is false for a caller whose pages must not be cached.
func cacheView(c Caller) (string, bool) {
	return "", true
}

// pageKey is the normalised request: everything that shapes the bytes of
// a list response.
func pageKey(resource, view, base string, p *listParams) string {
	var b strings.Builder
	b.Grow(64 + len(base) + len(p.filter))
	for _, part := range []string{resource, view, base, p.filter, p.sortBy, strings.ToLower(p.sortOrder),
		strings.Join(p.attributes, ","), strings.Join(p.excludedAttributes, ",")} {
		b.WriteString(part)
		b.WriteByte(0)
	}
	b.WriteString(strconv.Itoa(p.startIndex))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(p.count))
	return b.String()
}

type stampKey struct{}

// WithStamp returns ctx carrying the store's stamp read at the start of
// the request (the API reads it once for its token cache); the page cache
// uses it instead of reading its own. It must have been read before
// anything the request reads from the store.
func WithStamp(ctx context.Context, stamp string) context.Context {
	return context.WithValue(ctx, stampKey{}, stamp)
}

// StampFrom returns the stamp WithStamp put in ctx.
func StampFrom(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(stampKey{}).(string)
	return s, ok
}
