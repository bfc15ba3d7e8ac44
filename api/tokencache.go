package api

import (
	"context"
	"net/http"
	"sync"

	"github.com/scimgate/scimgate/scim"
	"github.com/scimgate/scimgate/storage"
)

// tokenCache keeps the tokens of recent requests while the store's stamp
// (scim.Stamper) stays the same: a lookup per request was a fifth of the
// CPU of a cached SCIM answer. Any write moves the stamp, a revocation
// included (on SQLite also one by the token CLI in another process), so
// the request after it looks the token up again.
type tokenCache struct {
	stamper scim.Stamper // nil: no cache

	mu      sync.Mutex
	stamp   string
	entries map[string]storage.Token
}

// maxCachedTokens bounds the cache; a deployment has a few dozen tokens.
const maxCachedTokens = 4096

func newTokenCache(store storage.Store) *tokenCache {
	st, _ := store.(scim.Stamper)
	return &tokenCache{stamper: st}
}

// withStamp reads the store's stamp once, at the start of a request, and
// puts it in the request's context for the token and page caches.
func (s *Server) withStamp(r *http.Request) *http.Request {
	if s.tokens.stamper == nil {
		return r
	}
	stamp, ok, err := s.tokens.stamper.ReadStamp(r.Context())
	if err != nil || !ok {
		if err != nil {
			s.log.Debug("no store stamp; reading without caches", "error", err)
		}
		return r
	}
	return r.WithContext(scim.WithStamp(r.Context(), stamp))
}

// lookupToken returns the token with this id, from the cache when the
// request carries a stamp the cache was filled under.
func (s *Server) lookupToken(ctx context.Context, id string) (storage.Token, error) {
	stamp, ok := scim.StampFrom(ctx)
	if !ok {
		return s.cfg.Store.GetToken(ctx, id)
	}
	c := s.tokens
	c.mu.Lock()
	tok, hit := c.entries[id]
	hit = hit && c.stamp == stamp
	c.mu.Unlock()
	if hit {
		return tok, nil
	}
	tok, err := s.cfg.Store.GetToken(ctx, id)
	if err != nil {
		return tok, err
	}
	c.mu.Lock()
	if c.stamp != stamp || c.entries == nil || len(c.entries) >= maxCachedTokens {
		c.stamp, c.entries = stamp, make(map[string]storage.Token)
	}
	c.entries[id] = tok
	c.mu.Unlock()
	return tok, nil
}
