package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimgate/scimgate/api"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// BenchmarkAuthLimits measures what the failure table and the token
// buckets add to an authenticated request: the same parallel GET with the
// limits off and on (with a rate no request reaches, so every answer is
// a 200 and only the bookkeeping differs).
func BenchmarkAuthLimits(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  api.Config
	}{
		{"off", api.Config{}},
		{"on", api.Config{AuthFailuresPerMinute: 20, TokenRequestsPerSecond: 1 << 30, TokenBurst: 1 << 30}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			store, err := sqlstore.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlstore.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			bearer, tok, err := api.NewToken("bench", storage.RoleReader, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := store.CreateToken(ctx, tok); err != nil {
				b.Fatal(err)
			}
			cfg := tc.cfg
			cfg.Store = store
			srv, err := api.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodGet, "/scim/v2/ServiceProviderConfig", nil)
					req.Header.Set("Authorization", "Bearer "+bearer)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		})
	}
}
