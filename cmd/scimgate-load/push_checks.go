package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// checkTarget fails unless the target holds exactly the directory: every
// user once (userName compared case-insensitively), every group once with
// the members it has here.
func (s *pushSource) checkTarget(ctx context.Context, t *pushTarget) error {
	users, err := t.list(ctx, "Users")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, u := range users {
		name := strings.ToLower(u.UserName)
		if seen[name] {
			return fmt.Errorf("the target holds user %q twice", u.UserName)
		}
		seen[name] = true
	}
	if len(users) != len(s.users) {
		return fmt.Errorf("the target holds %d users, want %d", len(users), len(s.users))
	}
	for _, u := range s.users {
		if !seen[strings.ToLower(u.UserName)] {
			return fmt.Errorf("the target lacks user %q", u.UserName)
		}
	}
	groups, err := t.list(ctx, "Groups")
	if err != nil {
		return err
	}
	members := map[string]int{}
	for _, g := range groups {
		if _, dup := members[g.DisplayName]; dup {
			return fmt.Errorf("the target holds group %q twice", g.DisplayName)
		}
		members[g.DisplayName] = len(g.Members)
	}
	if len(groups) != len(s.groups) {
		return fmt.Errorf("the target holds %d groups, want %d", len(groups), len(s.groups))
	}
	for _, g := range s.groups {
		n, ok := members[g.DisplayName]
		switch {
		case !ok:
			return fmt.Errorf("the target lacks group %q", g.DisplayName)
		case n != len(g.Members):
			return fmt.Errorf("group %q has %d members in the target, want %d", g.DisplayName, n, len(g.Members))
		}
	}
	return nil
}

// pushChange is what the incremental scenario changed, and what the push
// must send for it.
type pushChange struct {
	users, groups, batches int
	titled                 []int // indexes of the users whose title changed
}

// requests is what the push should send: one PATCH per edited user and
// per membership batch.
func (c pushChange) requests() int { return c.users + c.batches }

// changedTitle is the title the incremental scenario gives a user.
const changedTitle = "Senior Engineer"

// change edits the title of 1% of the users (every 100th) and, in up to
// five groups, removes the first member and adds a user from elsewhere:
// two membership batches (an add and a remove) per group.
func (s *pushSource) change(ctx context.Context) (pushChange, error) {
	var c pushChange
	for i := 0; i < len(s.users); i += 100 {
		if _, err := s.store.UpdateUser(ctx, s.users[i].ID, func(u *storage.User) error { u.Title = changedTitle; return nil }); err != nil {
			return c, fmt.Errorf("edit user: %w", err)
		}
		c.titled = append(c.titled, i)
		c.users++
	}
	for gi := range min(5, len(s.groups)) {
		g := &s.groups[gi]
		in := map[string]bool{}
		for _, m := range g.Members {
			in[m.Value] = true
		}
		var add string
		for j := len(s.users) - 1 - gi; j >= 0; j-- {
			if !in[s.users[j].ID] {
				add = s.users[j].ID
				break
			}
		}
		if add == "" || len(g.Members) < 2 {
			continue // every user is in it already, or removing would empty it
		}
		remove := g.Members[0].Value
		mc := storage.MemberChange{Add: []storage.Member{{Value: add, Type: storage.MemberUser}}, Remove: []string{remove}}
		if _, err := s.store.UpdateGroup(ctx, g.ID, false, func(*storage.Group) (storage.MemberChange, error) { return mc, nil }); err != nil {
			return c, fmt.Errorf("edit group %s: %w", g.DisplayName, err)
		}
		g.Members = append(g.Members[1:], storage.Member{Value: add, Type: storage.MemberUser})
		c.groups++
		c.batches += 2
	}
	return c, nil
}

// checkChanged fails unless the target shows the edits of change.
func (s *pushSource) checkChanged(ctx context.Context, t *pushTarget) error {
	for _, i := range []int{0, len(s.users) - 1 - (len(s.users)-1)%100} {
		id, err := s.targetID(ctx, s.users[i].ID)
		if err != nil {
			return err
		}
		var u struct {
			Title string `json:"title"`
		}
		if err := t.get(ctx, "/Users/"+id, &u); err != nil {
			return err
		}
		if u.Title != changedTitle {
			return fmt.Errorf("user %s has title %q in the target, want %q", s.users[i].UserName, u.Title, changedTitle)
		}
	}
	return s.checkTarget(ctx, t)
}

// leaver runs the scheduler (as serve does), deactivates a user (the app
// keeps inactive users out of its view) and times how long until the
// target shows the user inactive.
func (s *pushSource) leaver(ctx context.Context, t *pushTarget, afterChange int) (time.Duration, error) {
	sched := outbound.NewScheduler(s.store, s.runner, nil, s.store.Now)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sched.Run(sctx); close(done) }()
	defer func() { stop(); <-done }()
	u := s.users[1]
	id, err := s.targetID(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	if active, err := t.userActive(ctx, id); err != nil || !active {
		return 0, fmt.Errorf("leaver %s before leaving: active %v in the target, err %v", u.UserName, active, err)
	}
	start := time.Now()
	if _, err := s.store.UpdateUser(ctx, u.ID, func(u *storage.User) error { u.Active = false; return nil }); err != nil {
		return 0, fmt.Errorf("deactivate the leaver: %w", err)
	}
	deadline := start.Add(time.Duration(afterChange+30) * time.Second)
	for time.Now().Before(deadline) {
		active, err := t.userActive(ctx, id)
		if err != nil {
			return 0, err
		}
		if !active {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("leaver %s still active in the target %s after leaving", u.UserName, time.Since(start).Round(time.Second))
}
