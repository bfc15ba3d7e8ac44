// Package sourcetest is what connectors and the engine test with:
//
//   - Run, the conformance suite every connector passes (conformance.go),
//     driven through a connector's Harness;
//   - Recorder and Discard, the sinks connector tests record into, and
//     UpstreamCounter, an observer that counts upstream requests;
//   - Clock, a manual clock shared by an emulator and the source;
//   - Kind, an in-process source kind for tests of the sync engine, the
//     scheduler and the config API, whose records live in a Dataset the
//     test edits between runs.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/scimgate/scimgate/sources"
)

// Dataset is what the fake upstream holds. Tests change it between runs.
type Dataset struct {
	mu        sync.Mutex
	users     []sources.UserRecord
	groups    []sources.GroupRecord
	deletions []sources.Deletion
	problems  []sources.Problem
	// delta makes the next runs incremental: only Deletions and the
	// records are sent, and the result is not complete.
	delta      bool
	fail       error
	panic      any
	panicAside any
	cursor     int
	// Block, when set, is waited on in the middle of a run (after the
	// first page) so tests can observe a run in progress.
	Block chan struct{}
	// Runs counts Sync calls; Requests records what each asked for.
	Runs     int
	Requests []sources.Request
}

// SetUsers replaces the users.
func (d *Dataset) SetUsers(u ...sources.UserRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users = append([]sources.UserRecord(nil), u...)
}

// SetGroups replaces the groups.
func (d *Dataset) SetGroups(g ...sources.GroupRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.groups = append([]sources.GroupRecord(nil), g...)
}

// SetDelta makes runs incremental with the given explicit deletions.
func (d *Dataset) SetDelta(delta bool, del ...sources.Deletion) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.delta, d.deletions = delta, del
}

// SetProblems makes runs report unreadable records.
func (d *Dataset) SetProblems(p ...sources.Problem) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.problems = p
}

// Panic makes runs panic with v after sending the users, as a connector
// with a bug would (nil: behave again).
func (d *Dataset) Panic(v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.panic = v
}

// PanicAside makes runs panic with v in a goroutine of their own after
// sending the users, as a connector's prefetch with a bug would; the
// goroutine runs through sources.Recover, as connectors' goroutines do
// (nil: behave again).
func (d *Dataset) PanicAside(v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.panicAside = v
}

// Fail makes runs fail with err (nil: succeed again).
func (d *Dataset) Fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = err
}

// User builds a user record.
func User(key, userName string, attrs ...string) sources.UserRecord {
	a := map[string]string{"userName": userName, "id": key}
	for i := 0; i+1 < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	return sources.UserRecord{Key: key, Attrs: a}
}

// Group builds a group record with a complete member list.
func Group(key, name string, members ...string) sources.GroupRecord {
	return sources.GroupRecord{Key: key, Attrs: map[string]string{"displayName": name, "id": key}, Members: members, MembersComplete: true}
}

// Kind returns a source kind named "fake" backed by ds.
func Kind(ds *Dataset) sources.Kind {
	return sources.Kind{
		New:         func() sources.Config { return &config{ds: ds} },
		Description: "in-process test source",
		UserMapping: sources.Mapping{
			"userName": "{userName}", "externalId": "{id}", "active": "{active}",
			"name.givenName": "{givenName}", "name.familyName": "{familyName}", "displayName": "{displayName}",
			"title": "{title}", "emails.work": "{email}", "enterprise.department": "{department}",
			"enterprise.manager": "{manager}",
		},
		GroupMapping: sources.Mapping{"displayName": "{displayName}", "externalId": "{id}"},
	}
}

type config struct {
	ds       *Dataset
	APIToken string `json:"apiToken" secret:"true" help:"A token the fake upstream ignores; a secret, for tests of secret handling."`
	Region   string `json:"region" required:"true" example:"eu" help:"Any non-empty text; required, for tests of field errors."`
}

func (c *config) Validate() sources.FieldErrors {
	var errs sources.FieldErrors
	if c.Region == "" {
		errs.Add("region", "required")
	}
	return errs
}

func (c *config) Open(env sources.Env) (sources.Source, error) {
	return &fake{ds: c.ds, token: c.APIToken, upstream: env.WithDefaults().Upstream}, nil
}

type fake struct {
	ds       *Dataset
	token    string
	upstream sources.UpstreamObserver
}

// ErrBadToken is what Test reports for the token "bad".
var ErrBadToken = errors.New("fake: the API token was refused (401)")

func (f *fake) Test(context.Context) error {
	if f.token == "bad" {
		return ErrBadToken
	}
	return nil
}

// Sync sends users in pages of two, then groups, then deletions.
func (f *fake) Sync(ctx context.Context, req sources.Request, out sources.Sink) (sources.Result, error) {
	d := f.ds
	d.mu.Lock()
	d.Runs++
	d.Requests = append(d.Requests, req)
	users := append([]sources.UserRecord(nil), d.users...)
	groups := append([]sources.GroupRecord(nil), d.groups...)
	dels := append([]sources.Deletion(nil), d.deletions...)
	probs := append([]sources.Problem(nil), d.problems...)
	delta, fail, block, crash, crashAside := d.delta && req.Cursor != nil && !req.Full, d.fail, d.Block, d.panic, d.panicAside
	d.cursor++
	cursor := []byte(fmt.Sprintf("cursor-%d", d.cursor))
	d.mu.Unlock()
	// One upstream request per run, as if the dataset were read at once.
	if fail != nil {
		f.upstream.ObserveUpstream(sources.UpstreamError)
	} else {
		f.upstream.ObserveUpstream(sources.UpstreamOK)
	}
	for i := 0; i < len(users); i += 2 {
		if err := out.Users(ctx, users[i:min(i+2, len(users))]); err != nil {
			return sources.Result{}, err
		}
		if i == 0 && block != nil {
			select {
			case <-block:
			case <-ctx.Done():
				return sources.Result{}, ctx.Err()
			}
		}
	}
	if crash != nil {
		panic(crash)
	}
	if crashAside != nil {
		errc := make(chan error, 1)
		go func() { errc <- sources.Recover(func() error { panic(crashAside) }) }()
		if err := <-errc; err != nil {
			return sources.Result{}, fmt.Errorf("prefetch: %w", err)
		}
	}
	if fail != nil {
		return sources.Result{}, fail
	}
	for _, p := range probs {
		if err := out.Problem(ctx, p); err != nil {
			return sources.Result{}, err
		}
	}
	if len(groups) > 0 {
		if err := out.Groups(ctx, groups); err != nil {
			return sources.Result{}, err
		}
	}
	if delta && len(dels) > 0 {
		if err := out.Deletions(ctx, dels); err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{Complete: !delta, Cursor: cursor}, nil
}
