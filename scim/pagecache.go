package scim

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
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
	entries  map[string]cachedPage
	bytes    int
	maxBytes int
}

// cachedPage is one rendered page; a zero expires lasts until the next
// write.
type cachedPage struct {
	body    []byte
	expires time.Time
}

func newPageCache(maxBytes int) *pageCache {
	if maxBytes <= 0 {
		return nil
	}
	return &pageCache{maxBytes: maxBytes}
}

func (c *pageCache) get(stamp, key string, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != stamp {
		return nil, false
	}
	e, ok := c.entries[key]
	if !ok || (!e.expires.IsZero() && !now.Before(e.expires)) {
		return nil, false
	}
	return e.body, true
}

// put stores a copy of body. A page of another stamp than the cache's
// replaces them all: pages of an older stamp are never served again.
func (c *pageCache) put(stamp, key string, body []byte, expires time.Time) {
	size := len(body) + len(key)
	if size > c.maxBytes/8 {
		return // a huge group would push out everything else
	}
	stored := append([]byte(nil), body...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != stamp || c.entries == nil {
		c.stamp, c.entries, c.bytes = stamp, make(map[string]cachedPage), 0
	}
	if old, ok := c.entries[key]; ok {
		c.bytes -= len(old.body) + len(key)
		delete(c.entries, key)
	}
	// Evict arbitrary entries (map order) until the page fits: cheap, and
	// the bound on bytes is what keeps the process's memory flat.
	for k, v := range c.entries {
		if c.bytes+size <= c.maxBytes {
			break
		}
		c.bytes -= len(v.body) + len(k)
		delete(c.entries, k)
	}
	c.entries[key] = cachedPage{body: stored, expires: expires}
	c.bytes += size
}

// cachedList is a list request's place in the page cache: its key and the
// stamp read before the query. The zero value caches nothing.
type cachedList struct {
	key, stamp string
	expires    time.Time // zero: until the next write
	hit        bool      // answered from the cache already
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
	view, ttl := cacheView(caller)
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
	now := s.now()
	if body, hit := s.pages.get(stamp, key, now); hit {
		writeBody(w, http.StatusOK, body)
		return cachedList{hit: true}
	}
	c := cachedList{key: key, stamp: stamp}
	if ttl > 0 {
		c.expires = now.Add(ttl)
	}
	return c
}

// storePage keeps a rendered page after a miss.
func (s *Server) storePage(c cachedList, body []byte) {
	if c.key != "" {
		s.pages.put(c.stamp, c.key, body, c.expires)
	}
}

// cacheView is the part of the caller that decides what a list shows, as
// a key, and how long its pages may be served at most (0: until the next
// write). The view of an app with a leave grace also changes with time
// alone: a departed user drops out when their grace ends, which no write
// marks; so its pages live for viewPageTTL of the store's clock at most.
func cacheView(c Caller) (key string, ttl time.Duration) {
	if c.App == nil {
		return "", 0
	}
	if c.App.LeaveGraceDays > 0 {
		ttl = viewPageTTL
	}
	return "app\x00" + c.App.ID + "\x00" + strconv.FormatInt(c.App.Version, 10), ttl
}

// viewPageTTL bounds how long a page of an app with a leave grace is
// served: the grace is days, so a departed user shown inactive for up to
// a minute more is of no consequence, while an app's lookups, spread over
// tens of thousands of users, still come from the cache. (A second was
// measured: the app's userName lookups then missed nearly always.)
const viewPageTTL = time.Minute

// viewPage runs an app's list handler with a writer that keeps a copy of
// a 200 answer for the page cache.
func (s *Server) viewPage(w http.ResponseWriter, c cachedList, render func(http.ResponseWriter)) {
	if c.key == "" {
		render(w)
		return
	}
	pw := &pageWriter{ResponseWriter: w}
	render(pw)
	if pw.status == http.StatusOK {
		s.pages.put(c.stamp, c.key, pw.body.Bytes(), c.expires)
	}
}

// pageWriter passes a response through and keeps its body.
type pageWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (p *pageWriter) WriteHeader(status int) {
	p.status = status
	p.ResponseWriter.WriteHeader(status)
}

func (p *pageWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	if p.status == http.StatusOK {
		p.body.Write(b)
	}
	return p.ResponseWriter.Write(b)
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
