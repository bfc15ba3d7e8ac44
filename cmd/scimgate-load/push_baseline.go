package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// The baseline is the target's own ingest of the requests a first push
// sends, from this tool with the engine's concurrency: every user POSTed
// with the body the engine renders (the view's document without id, meta
// and manager, schemas set), then every group POSTed without members and
// its members added with one PATCH per 1000 (the generic profile's batch),
// as the engine does. Bodies are prepared before the clock starts, so the
// rate is the target's and the loopback's alone.

const (
	userSchema     = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema    = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchOpSchema  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	genericBatchOf = 1000
)

// baselineBodies renders the users of the app's view as the engine would.
func (s *pushSource) baselineBodies(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	q := storage.Query{View: s.app.ID, Limit: 1000, NoTotal: true}
	for {
		page, err := s.store.ListUsers(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read the view: %w", err)
		}
		for _, d := range page.Users {
			var b map[string]any
			if err := json.Unmarshal(d.JSON, &b); err != nil {
				return nil, fmt.Errorf("user %s: %w", d.ID, err)
			}
			delete(b, "id")
			delete(b, "meta")
			schemas := []any{userSchema}
			if ext, ok := b[storage.EnterpriseSchema].(map[string]any); ok {
				delete(ext, "manager")
				schemas = append(schemas, storage.EnterpriseSchema)
			}
			b["schemas"] = schemas
			raw, err := json.Marshal(b)
			if err != nil {
				return nil, err
			}
			out = append(out, raw)
		}
		if !page.Bounds.More || len(page.Users) == 0 {
			return out, nil
		}
		last := page.Bounds.Last
		q.After = &last
	}
}

// baseline ingests the directory into t (empty) and returns the objects
// (users and groups) it created and how long that took.
func (s *pushSource) baseline(ctx context.Context, t *pushTarget, conc int) (int, time.Duration, error) {
	users, err := s.baselineBodies(ctx)
	if err != nil {
		return 0, 0, err
	}
	if len(users) != len(s.users) {
		return 0, 0, fmt.Errorf("the view holds %d users, the directory %d", len(users), len(s.users))
	}
	userIDs := make([]string, len(users)) // the target's, by load order
	// The view is read in id order, not load order: index by userName.
	order := make(map[string]int, len(s.users))
	for i, u := range s.users {
		order[u.UserName] = i
	}
	start := time.Now()
	err = parallel(ctx, len(users), conc, func(i int) error {
		r, err := t.send(ctx, http.MethodPost, "/Users", users[i], http.StatusCreated)
		if err != nil {
			return err
		}
		at, ok := order[r.UserName]
		if !ok {
			return fmt.Errorf("the target created an unknown user %q", r.UserName)
		}
		userIDs[at] = r.ID
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("baseline users: %w", err)
	}
	local := make(map[string]string, len(s.users))
	for i, u := range s.users {
		local[u.ID] = userIDs[i]
	}
	err = parallel(ctx, len(s.groups), conc, func(i int) error {
		g := s.groups[i]
		body, err := json.Marshal(map[string]any{"schemas": []string{groupSchema}, "displayName": g.DisplayName, "externalId": g.ExternalID})
		if err != nil {
			return err
		}
		r, err := t.send(ctx, http.MethodPost, "/Groups", body, http.StatusCreated)
		if err != nil {
			return err
		}
		for from := 0; from < len(g.Members); from += genericBatchOf {
			var values []map[string]string
			for _, m := range g.Members[from:min(from+genericBatchOf, len(g.Members))] {
				values = append(values, map[string]string{"value": local[m.Value]})
			}
			patch, err := json.Marshal(map[string]any{"schemas": []string{patchOpSchema},
				"Operations": []map[string]any{{"op": "add", "path": "members", "value": values}}})
			if err != nil {
				return err
			}
			if _, err := t.send(ctx, http.MethodPatch, "/Groups/"+r.ID, patch, http.StatusOK, http.StatusNoContent); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("baseline groups: %w", err)
	}
	return len(users) + len(s.groups), time.Since(start), nil
}

// send sends one write and decodes the answer's id and userName.
func (t *pushTarget) send(ctx context.Context, method, path string, body []byte, want ...int) (targetResource, error) {
	var r targetResource
	req, err := http.NewRequestWithContext(ctx, method, t.base()+path, bytes.NewReader(body))
	if err != nil {
		return r, err
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := t.client.Do(req)
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, w := range want {
		if res.StatusCode == w {
			if len(b) > 0 {
				err = json.Unmarshal(b, &r)
			}
			return r, err
		}
	}
	return r, fmt.Errorf("%s %s: %s: %s", method, path, res.Status, b)
}

// parallel calls fn for 0..n-1 on conc goroutines and returns the first
// error (the others stop taking work).
func parallel(ctx context.Context, n, conc int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range max(conc, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}
