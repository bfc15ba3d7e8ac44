package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// parallel runs fn(i) for i in [0, n) at once and collects the statuses.
func parallel(t *testing.T, n int, fn func(i int) *resp) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			r := fn(i)
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return statuses
}

// TestConcurrentPatchesAreNotLost: concurrent PATCHes of one user each
// land; versions count every write.
func TestConcurrentPatchesAreNotLost(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "hot@example.com", nil).str("id")
	const n = 16
	st := parallel(t, n, func(i int) *resp {
		return e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("add", "emails",
			[]any{map[string]any{"value": fmt.Sprintf("e%02d@example.com", i), "type": "work"}})))
	})
	if st[http.StatusOK] != n {
		t.Fatalf("statuses = %v, want %d × 200", st, n)
	}
	g := e.do(t, "GET", "/Users/"+id, e.Writer, nil)
	if got := len(g.list("emails")); got != n {
		t.Errorf("%d emails after %d concurrent adds: %s", got, n, g.Raw)
	}
	if got := g.Header.Get("ETag"); got != fmt.Sprintf(`W/"%d"`, n+1) {
		t.Errorf("ETag = %s, want W/\"%d\"", got, n+1)
	}
}

// TestConcurrentIfMatch: of many writers racing with the same If-Match,
// exactly one wins; the others get 412.
func TestConcurrentIfMatch(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(t, e.Writer, "race@example.com", nil).str("id")
	const n = 12
	st := parallel(t, n, func(i int) *resp {
		return e.do(t, "PATCH", "/Users/"+id, e.Writer, patchBody(op("replace", "title", fmt.Sprint("winner ", i))), "If-Match", `W/"1"`)
	})
	if st[http.StatusOK] != 1 || st[http.StatusPreconditionFailed] != n-1 {
		t.Errorf("statuses = %v, want one 200 and %d × 412", st, n-1)
	}
	if g := e.do(t, "GET", "/Users/"+id, e.Writer, nil); g.Header.Get("ETag") != `W/"2"` {
		t.Errorf("ETag = %s, want W/\"2\"", g.Header.Get("ETag"))
	}
}

// TestConcurrentMemberAdds: concurrent single-member PATCHes of one group
// all land.
func TestConcurrentMemberAdds(t *testing.T) {
	e := newEnv(t)
	var ids []string
	const n = 16
	for i := range n {
		ids = append(ids, e.createUser(t, e.Writer, fmt.Sprintf("m%02d@example.com", i), nil).str("id"))
	}
	gid := e.createGroup(t, e.Writer, "Crowd").str("id")
	st := parallel(t, n, func(i int) *resp {
		return e.do(t, "PATCH", "/Groups/"+gid, e.Writer, patchBody(op("add", "members", []any{map[string]any{"value": ids[i]}})))
	})
	if st[http.StatusNoContent] != n {
		t.Fatalf("statuses = %v, want %d × 204", st, n)
	}
	wantMembers(t, e.getGroup(t, gid), ids...)
}

// TestConcurrentDuplicateCreates: racing creates of one userName yield
// exactly one 201; the rest are 409.
func TestConcurrentDuplicateCreates(t *testing.T) {
	e := newEnv(t)
	const n = 12
	st := parallel(t, n, func(i int) *resp {
		name := "dup@example.com"
		if i%2 == 1 {
			name = "DUP@example.com"
		}
		return e.do(t, "POST", "/Users", e.Writer, userBody(name, nil))
	})
	if st[http.StatusCreated] != 1 || st[http.StatusConflict] != n-1 {
		t.Errorf("statuses = %v, want one 201 and %d × 409", st, n-1)
	}
}
