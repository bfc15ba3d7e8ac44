package ldap

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func ldapErr(code uint16, msg string) error { return goldap.NewError(code, errors.New(msg)) }

var (
	errBusy        = ldapErr(goldap.LDAPResultBusy, "00002024: SvcErr: DSID-03100780, problem 5001 (BUSY)")
	errUnavailable = ldapErr(goldap.LDAPResultUnavailable, "00000000: SvcErr: problem 5002 (UNAVAILABLE)")
	errTimeLimit   = ldapErr(goldap.LDAPResultTimeLimitExceeded, "00000055: LdapErr: DSID-0C0906A1, comment: Time limit exceeded")
	errNetwork     = ldapErr(goldap.ErrorNetwork, "read tcp 10.0.0.1:52000->10.0.0.2:636: connection reset by peer")
	errUnwilling   = ldapErr(goldap.LDAPResultUnwillingToPerform, "00000057: LdapErr: DSID-0C090A71, comment: unwilling")
	errNoAccess    = ldapErr(goldap.LDAPResultInsufficientAccessRights, "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)")
)

// on fails the paged searches numbered in ns (from 1) with err.
func on(err error, ns ...int) func(int) error {
	return func(n int) error {
		if slices.Contains(ns, n) {
			return err
		}
		return nil
	}
}

// TestFaultsRetriedOrExplained: busy, unavailable and a broken connection
// reconnect and restart the search with bounded backoff, sending nothing
// twice; other faults end the run at once with a message in words.
func TestFaultsRetriedOrExplained(t *testing.T) {
	// 25 users in pages of 10 are paged searches 1-3; 4 groups in one
	// page follow as search 4 (when nothing was retried).
	for _, tc := range []struct {
		name           string
		fault          func(int) error
		wantErr        []string // substrings of the run error; nil: success
		wantCode       uint16   // the error unwraps to this LDAP code
		wantReconnects int64
		wantSleeps     []time.Duration
	}{
		{name: "busy on page 2 then success", fault: on(errBusy, 2),
			wantReconnects: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "unavailable three times, fine the fourth", fault: on(errUnavailable, 2, 3, 4),
			wantReconnects: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "broken connection mid-search", fault: on(errNetwork, 3),
			wantReconnects: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "busy during the group search", fault: on(errBusy, 4),
			wantReconnects: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "busy forever", fault: func(int) error { return errBusy },
			wantErr: []string{"read users", "busy (LDAP result code 51)", "4 attempts"}, wantCode: goldap.LDAPResultBusy,
			wantReconnects: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "time limit exceeded", fault: on(errTimeLimit, 2),
			wantErr: []string{"time limit", "LDAP result code 3", "narrow the base DN or the filter", "MaxQueryDuration"}, wantCode: goldap.LDAPResultTimeLimitExceeded},
		{name: "unwilling to perform", fault: on(errUnwilling, 1),
			wantErr: []string{"LDAP result code 53", "Unwilling To Perform"}, wantCode: goldap.LDAPResultUnwillingToPerform},
		{name: "insufficient access", fault: on(errNoAccess, 1),
			wantErr: []string{"may not search", "INSUFF_ACCESS_RIGHTS"}, wantCode: goldap.LDAPResultInsufficientAccessRights},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDir{}
			var users []string
			for i := range 25 {
				users = append(users, d.user(fmt.Sprintf("u%02d", i)).key())
			}
			var groups []string
			for i := range 4 {
				groups = append(groups, d.group(fmt.Sprintf("g%d", i), d.objects[i]).key())
			}
			d.fault = tc.fault
			src := openFake(d, Config{PageSize: 10}, testNow)
			clock := sourcetest.NewClock(testNow)
			src.clock = clock
			rec := &sourcetest.Recorder{}
			_, err := src.Sync(context.Background(), sources.Request{}, rec)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("run failed: %v", err)
				}
				if got := recordKeys(rec); !reflect.DeepEqual(got, append(users, groups...)) {
					t.Errorf("records sent %v\nwant each once: %v", got, append(users, groups...))
				}
				if len(rec.Got.Problems) != 0 {
					t.Errorf("problems: %v", rec.Got.Problems)
				}
			} else {
				if err == nil {
					t.Fatal("run succeeded")
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if !goldap.IsErrorAnyOf(err, tc.wantCode) {
					t.Errorf("error %v does not unwrap to code %d", err, tc.wantCode)
				}
			}
			if got := src.stats.reconnects.Load(); got != tc.wantReconnects {
				t.Errorf("reconnects = %d, want %d", got, tc.wantReconnects)
			}
			if d.opens != int(tc.wantReconnects)+1 || d.closes != d.opens {
				t.Errorf("connections opened %d, closed %d; want %d each", d.opens, d.closes, tc.wantReconnects+1)
			}
			if sleeps := clock.Sleeps(); !reflect.DeepEqual(sleeps, tc.wantSleeps) {
				t.Errorf("waits %v, want %v", sleeps, tc.wantSleeps)
			}
		})
	}
}

// TestRetryRestartsFromTheFirstPage: the paging cookie belongs to the old
// connection, so after a reconnect the search asks for page one again.
func TestRetryRestartsFromTheFirstPage(t *testing.T) {
	d := &fakeDir{fault: on(errBusy, 3)}
	for i := range 25 {
		d.user(fmt.Sprintf("u%02d", i))
	}
	src := openFake(d, Config{PageSize: 10}, testNow)
	rec := &sourcetest.Recorder{}
	if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	// Pages 1 and 2 were sent before the fault; the restart reads them
	// again but sends only page 3.
	if want := []int{10, 10, 5}; !reflect.DeepEqual(rec.UserPages, want) {
		t.Errorf("user pages %v, want %v", rec.UserPages, want)
	}
	if got := len(d.requestsFor("objectCategory=person")); got != 6 {
		t.Errorf("user searches = %d, want 3 + 3 after the restart", got)
	}
}

// TestRetryKeepsDeletionsAndExpansionWhole: the tombstone search and an
// expanded group graph survive a restart without loss or repetition.
func TestRetryKeepsDeletionsAndExpansionWhole(t *testing.T) {
	d := &fakeDir{}
	a, b := d.user("a"), d.user("b")
	inner := d.group("inner", a)
	outer := d.group("outer", inner, b)
	src := openFake(d, Config{ExpandNestedGroups: true}, testNow)
	res, err := src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
	if err != nil {
		t.Fatal(err)
	}
	t1 := d.add("tombstone-user", "CN=x\\0ADEL:1,CN=Deleted Objects,DC=example,DC=test", map[string][]string{"objectClass": {"top", "user"}})
	t2 := d.add("tombstone-group", "CN=y\\0ADEL:2,CN=Deleted Objects,DC=example,DC=test", map[string][]string{"objectClass": {"top", "group"}})
	d.paged = 0
	// Incremental run: users (1), groups (2, busy, then 3), tombstones (4, busy, then 5).
	d.fault = on(errBusy, 2, 4)
	rec := &sourcetest.Recorder{}
	if _, err := src.Sync(context.Background(), sources.Request{Cursor: res.Cursor}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Got.Groups) != 2 {
		t.Fatalf("groups sent %d, want 2: %+v", len(rec.Got.Groups), rec.Got.Groups)
	}
	if g, ok := rec.Group(outer.key()); !ok || !reflect.DeepEqual(g.Members, sortedKeys(a, b)) {
		t.Errorf("outer expanded to %+v, want %v", g, sortedKeys(a, b))
	}
	want := []sources.Deletion{{Kind: sources.KindUser, Key: t1.key()}, {Kind: sources.KindGroup, Key: t2.key()}}
	if !reflect.DeepEqual(rec.Got.Deletions, want) {
		t.Errorf("deletions %+v, want %+v", rec.Got.Deletions, want)
	}
	if got := src.stats.reconnects.Load(); got != 2 {
		t.Errorf("reconnects = %d, want 2", got)
	}
}

// TestRetryWaitEndsWithTheRun: a canceled run stops waiting and does not
// reconnect.
func TestRetryWaitEndsWithTheRun(t *testing.T) {
	d := &fakeDir{fault: on(errBusy, 1)}
	d.user("a")
	src := openFake(d, Config{}, testNow)
	ctx, cancel := context.WithCancel(context.Background())
	src.clock = cancelingClock{Clock: src.clock, cancel: cancel}
	_, err := src.Sync(ctx, sources.Request{}, &sourcetest.Recorder{})
	if !goldap.IsErrorAnyOf(err, goldap.LDAPResultBusy) {
		t.Errorf("err = %v, want the busy fault", err)
	}
	if got := src.stats.reconnects.Load(); got != 0 {
		t.Errorf("reconnects = %d", got)
	}
}

func recordKeys(rec *sourcetest.Recorder) []string {
	var keys []string
	for _, u := range rec.Got.Users {
		keys = append(keys, u.Key)
	}
	for _, g := range rec.Got.Groups {
		keys = append(keys, g.Key)
	}
	return keys
}

func sortedKeys(objs ...*fakeObject) []string {
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.key())
	}
	slices.Sort(keys)
	return keys
}

// TestReconnectFailures: a reconnect that cannot reach the DC is one more
// failed attempt; one refused at the bind ends the run at once.
func TestReconnectFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dialErrs  []error // what the reconnects return, in turn; then success
		wantErr   error
		wantOpens int
	}{
		{"unreachable once, then back", []error{fmt.Errorf("%w at dc1:636: connection refused", ErrUnreachable)}, nil, 3},
		{"bind refused", []error{fmt.Errorf("%w: invalid credentials", ErrBind)}, ErrBind, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDir{fault: on(errBusy, 1)}
			d.user("a")
			src := openFake(d, Config{}, testNow)
			opens := 0
			src.open = func(ctx context.Context) (conn, error) {
				opens++
				if i := opens - 2; i >= 0 && i < len(tc.dialErrs) {
					return nil, tc.dialErrs[i]
				}
				return d.connect(ctx)
			}
			rec := &sourcetest.Recorder{}
			_, err := src.Sync(context.Background(), sources.Request{}, rec)
			if tc.wantErr == nil && (err != nil || len(rec.Got.Users) != 1) {
				t.Fatalf("err %v, users %d", err, len(rec.Got.Users))
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if opens != tc.wantOpens {
				t.Errorf("opens = %d, want %d", opens, tc.wantOpens)
			}
		})
	}
}

// cancelingClock cancels the run when it is asked to wait.
type cancelingClock struct {
	sources.Clock
	cancel context.CancelFunc
}

func (c cancelingClock) Sleep(ctx context.Context, _ time.Duration) error {
	c.cancel()
	return ctx.Err()
}
