package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
	"github.com/scimgate/scimgate/storage/sqlstore"
)

// pushSource is the pushing scimgate, in process: a SQLite directory of
// users and groups, an app whose view is all of it with a push into the
// target, and the real runner and engine (the config API is not needed to
// drive them).
type pushSource struct {
	store  *sqlstore.Store
	app    storage.App
	users  []storage.User  // as stored, in load order
	groups []storage.Group // as stored, with their members
	runner *outbound.Runner
	// httpClient, with -push-shared-transport, is shared by every run's
	// SCIM client (connections reused across runs); nil lets each client
	// make its default, as serve's wiring does. Both measured the same.
	httpClient *http.Client
}

// pushGroupSize is group g's member count: 25 and 75 by turns (rounded
// to what the directory holds), so the average is the asked-for 50 and
// the sizes differ.
func pushGroupSize(g, avg, users int) int {
	n := avg / 2
	if g%2 == 1 {
		n = avg + avg/2
	}
	return min(max(n, 1), users)
}

// openPushSource loads the directory (users through the store in the
// batches a sync writes, every user active) and creates the app.
func openPushSource(ctx context.Context, dir string, o pushOptions, target *pushTarget) (*pushSource, error) {
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "source.db"), sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	s := &pushSource{store: store}
	if err := s.load(ctx, o); err != nil {
		store.Close()
		return nil, err
	}
	s.app, err = store.CreateApp(ctx, storage.App{
		Name:        "push-load",
		Description: "scimgate-load -push: the whole directory",
		Groups:      storage.GroupsAll,
		Push: &storage.PushConfig{
			URL: target.base(), Auth: storage.PushAuth{Type: storage.PushAuthBearer},
			Profile: outbound.DefaultProfile, Match: []string{"userName", "externalId"},
			OnLeave: storage.OnLeaveDeactivate, AfterChangeSeconds: o.afterChange, Enabled: true,
		},
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("create the app: %w", err)
	}
	if o.sharedTransport {
		s.httpClient = pushHTTPClient()
	}
	token := target.token
	s.runner = outbound.NewRunner(store, outbound.NewEngine(store, outbound.EngineOptions{Concurrency: o.concurrency, PageSize: o.pageSize}),
		outbound.RunnerOptions{SingleProcess: true, OpenTarget: func(_ context.Context, app storage.App, _ map[string]string) (outbound.Target, error) {
			profile, ok := outbound.ProfileByName(app.Push.Profile)
			if !ok {
				return nil, fmt.Errorf("no push profile %q", app.Push.Profile)
			}
			return outbound.NewClient(outbound.ClientConfig{BaseURL: app.Push.URL, Profile: profile, HTTPClient: s.httpClient,
				Auth: outbound.ClientAuth{PushAuth: app.Push.Auth, Token: token}})
		}})
	return s, nil
}

// pushHTTPClient is one client for every run, with the timeouts of the SCIM
// client's default and idle connections kept for the engine's concurrency.
func pushHTTPClient() *http.Client {
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{
		ResponseHeaderTimeout: time.Minute, IdleConnTimeout: 90 * time.Second, MaxIdleConnsPerHost: 32}}
}

func (s *pushSource) close() {
	s.runner.Shutdown(context.Background())
	s.store.Close()
}

func (s *pushSource) load(ctx context.Context, o pushOptions) error {
	const batch = 1000
	s.users = make([]storage.User, 0, o.users)
	users := make([]storage.User, 0, batch)
	for i := range o.users {
		u := sampleUser(i)
		u.Active, u.Owner = true, "source:load"
		users = append(users, u)
		if len(users) == batch || i == o.users-1 {
			stored, err := s.store.CreateUsers(ctx, users)
			if err != nil {
				return fmt.Errorf("load users: %w", err)
			}
			s.users = append(s.users, stored...)
			users = users[:0]
		}
	}
	for g := range o.groups {
		grp := storage.Group{DisplayName: fmt.Sprintf("Load Group %03d", g), ExternalID: fmt.Sprintf("grp-%d", g), Owner: "source:load"}
		first := g * o.users / max(o.groups, 1)
		for j := range pushGroupSize(g, o.members, o.users) {
			grp.Members = append(grp.Members, storage.Member{Value: s.users[(first+j)%o.users].ID, Type: storage.MemberUser})
		}
		stored, err := s.store.CreateGroup(ctx, grp)
		if err != nil {
			return fmt.Errorf("load group %d: %w", g, err)
		}
		stored.Members = grp.Members
		s.groups = append(s.groups, stored)
	}
	return nil
}

// push starts a push with the runner and waits for it; elapsed is from the
// start until the runner is done with it (outcome stored).
func (s *pushSource) push(ctx context.Context, full bool) (storage.Run, time.Duration, error) {
	start := time.Now()
	run, err := s.runner.Start(ctx, s.app.ID, outbound.Trigger{Reason: "manual", Full: full})
	if err != nil {
		return storage.Run{}, 0, fmt.Errorf("start the push: %w", err)
	}
	for {
		if id, busy := s.runner.Running(s.app.ID); !busy || id != run.ID {
			break
		}
		select {
		case <-ctx.Done():
			return storage.Run{}, 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	done, err := s.store.PushRuns().GetRun(ctx, s.app.ID, run.ID)
	if err != nil {
		return storage.Run{}, 0, err
	}
	if done.Status != storage.RunSucceeded {
		return done, elapsed, fmt.Errorf("push run %s: %s: %s (notes %v)", done.ID, done.Status, done.Error, done.Notes)
	}
	if done.Counts.Errors != 0 {
		return done, elapsed, fmt.Errorf("push run %s: %d objects failed", done.ID, done.Counts.Errors)
	}
	return done, elapsed, nil
}

// targetID is the id the target gave the local user id.
func (s *pushSource) targetID(ctx context.Context, localID string) (string, error) {
	objs, err := s.store.PushObjects(ctx, s.app.ID, storage.MemberUser, []string{localID})
	if err != nil {
		return "", err
	}
	o, ok := objs[localID]
	if !ok || o.TargetID == "" {
		return "", errors.New("the push has no target id for user " + localID)
	}
	return o.TargetID, nil
}
