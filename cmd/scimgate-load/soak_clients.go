package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// clientStats is what the SCIM clients saw.
type clientStats struct {
	mu         sync.Mutex
	requests   int
	serverErrs int    // 5xx
	unexpected int    // any other status the step did not expect
	firstBad   string // the first 5xx or unexpected answer
	// written holds every acknowledged write's last state by user id:
	// the title of the last acknowledged PATCH, or deleted.
	written map[string]ackedUser
	writes  int
}

type ackedUser struct {
	userName string
	title    string
	deleted  bool
}

func (st *clientStats) saw(what string, status int, body []byte, want ...int) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	for _, w := range want {
		if status == w {
			return true
		}
	}
	if status >= 500 || status == 0 {
		st.serverErrs++
	} else {
		st.unexpected++
	}
	if st.firstBad == "" {
		st.firstBad = fmt.Sprintf("%s: %d %.300s", what, status, body)
	}
	return false
}

func (st *clientStats) ack(id string, u ackedUser) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.writes++
	st.written[id] = u
}

// scimClient is one of the soak's clients: it creates users, looks them
// up by filter, PATCHes them, reads the synced users, and deletes every
// fourth of its own, until ctx ends. A request once sent is never
// canceled, so every write has an answer and its state is known at the end.
func scimClient(ctx context.Context, s *soakServer, token string, n int, st *clientStats) {
	const users = "/scim/v2/Users"
	stop := ctx
	ctx = context.WithoutCancel(ctx)
	for i := 0; stop.Err() == nil; i++ {
		name := fmt.Sprintf("c%02d-%06d@soak.example", n, i)
		status, body, _ := s.callPolitely(ctx, http.MethodPost, users, token, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name, "title": "new",
			"emails": []map[string]any{{"value": name, "type": "work", "primary": true}},
		})
		if !st.saw("create "+name, status, body, http.StatusCreated) {
			continue
		}
		var created struct{ ID string }
		if json.Unmarshal(body, &created) != nil || created.ID == "" {
			st.saw("create "+name+" (no id)", 0, body)
			continue
		}
		st.ack(created.ID, ackedUser{userName: name, title: "new"})

		if stop.Err() != nil {
			return
		}
		status, body, _ = s.callPolitely(ctx, http.MethodGet, users+"?filter="+url.QueryEscape(`userName eq "`+name+`"`), token, nil)
		if st.saw("filter "+name, status, body, http.StatusOK) {
			var lr struct{ TotalResults int }
			if json.Unmarshal(body, &lr) != nil || lr.TotalResults != 1 {
				st.saw("filter "+name+" (totalResults not 1)", 0, body)
			}
		}

		if stop.Err() != nil {
			return
		}
		title := fmt.Sprintf("t%d", i)
		status, body, _ = s.callPolitely(ctx, http.MethodPatch, users+"/"+created.ID, token, map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []map[string]any{{"op": "replace", "path": "title", "value": title}},
		})
		if st.saw("patch "+name, status, body, http.StatusOK) {
			st.ack(created.ID, ackedUser{userName: name, title: title})
		}

		// The synced users: a page of each source's, as a reading app would.
		if stop.Err() != nil {
			return
		}
		prefix := []string{"csv", "okta", "user"}[i%3]
		status, body, _ = s.callPolitely(ctx, http.MethodGet, users+"?count=20&filter="+url.QueryEscape(`userName sw "`+prefix+`"`), token, nil)
		st.saw("list "+prefix, status, body, http.StatusOK)

		if i%4 == 3 && stop.Err() == nil {
			status, body, _ = s.callPolitely(ctx, http.MethodDelete, users+"/"+created.ID, token, nil)
			if st.saw("delete "+name, status, body, http.StatusNoContent) {
				st.ack(created.ID, ackedUser{userName: name, deleted: true})
			}
		}
	}
}

// readBack checks every acknowledged write: live users have their last
// acknowledged title, deleted ones answer 404. It returns how many were
// found as acknowledged and the first that was not.
// Each of its workers has its own token, as the clients did, so the
// per-token request rate does not make the read-back crawl.
func readBack(ctx context.Context, s *soakServer, tokens []string, written map[string]ackedUser) (found int, firstMissing string) {
	type job struct {
		id string
		u  ackedUser
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				ok, why := checkUser(ctx, s, token, j.id, j.u)
				mu.Lock()
				if ok {
					found++
				} else if firstMissing == "" {
					firstMissing = why
				}
				mu.Unlock()
			}
		}()
	}
	for id, u := range written {
		jobs <- job{id, u}
	}
	close(jobs)
	wg.Wait()
	return found, firstMissing
}

func checkUser(ctx context.Context, s *soakServer, token, id string, u ackedUser) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	status, body, err := s.callPolitely(ctx, http.MethodGet, "/scim/v2/Users/"+id, token, nil)
	if err != nil {
		return false, fmt.Sprintf("%s: %v", u.userName, err)
	}
	if u.deleted {
		if status != http.StatusNotFound {
			return false, fmt.Sprintf("%s deleted, GET = %d", u.userName, status)
		}
		return true, ""
	}
	var got struct{ UserName, Title string }
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil {
		return false, fmt.Sprintf("%s: GET = %d %.200s", u.userName, status, body)
	}
	if got.UserName != u.userName || got.Title != u.title {
		return false, fmt.Sprintf("%s: got userName %q title %q, acknowledged title %q", u.userName, got.UserName, got.Title, u.title)
	}
	return true, ""
}
