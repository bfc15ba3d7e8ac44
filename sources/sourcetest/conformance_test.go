package sourcetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// listUpstream holds users in memory; hoard makes its source copy the
// whole directory before it sends the first page, as a connector that
// buffers would.
type listUpstream struct {
	users []sources.UserRecord
	hoard bool
}

func (l *listUpstream) AddUser(i int) string {
	key := fmt.Sprintf("u%05d", i)
	l.users = append(l.users, User(key, key+"@example.com", "title", "Engineer"))
	return key
}
func (l *listUpstream) AddGroup(string, ...string) string { return "" }
func (l *listUpstream) ChangeUser(string)                 {}
func (l *listUpstream) DeleteUser(string)                 {}
func (l *listUpstream) AddMalformed()                     {}
func (l *listUpstream) BreakCredentials()                 {}
func (l *listUpstream) BreakHost()                        {}
func (l *listUpstream) Open(sources.Env) sources.Source   { return listSource{l} }

type listSource struct{ l *listUpstream }

func (s listSource) Sync(ctx context.Context, _ sources.Request, out sources.Sink) (sources.Result, error) {
	const page = 10
	copyOf := func(u sources.UserRecord) sources.UserRecord {
		c := sources.UserRecord{Key: u.Key, Attrs: make(map[string]string, len(u.Attrs))}
		for k, v := range u.Attrs {
			c.Attrs[k] = v + "."
		}
		return c
	}
	var all []sources.UserRecord
	if s.l.hoard {
		for _, u := range s.l.users {
			all = append(all, copyOf(u))
		}
	}
	buf := make([]sources.UserRecord, 0, page)
	for i, u := range s.l.users {
		if s.l.hoard {
			buf = append(buf, all[i])
		} else {
			buf = append(buf, copyOf(u))
		}
		if len(buf) == page || i == len(s.l.users)-1 {
			if err := out.Users(ctx, buf); err != nil {
				return sources.Result{}, err
			}
			buf = buf[:0]
		}
	}
	return sources.Result{Complete: true}, nil
}

// TestMemoryCaseTellsStreamingFromHoarding: the memory case must pass a
// source that streams and fail one that copies the directory first.
func TestMemoryCaseTellsStreamingFromHoarding(t *testing.T) {
	const n, perUser = 200, 256
	for _, tc := range []struct {
		hoard bool
		want  bool
	}{{false, false}, {true, true}} {
		low := heldHeap(t, seeded(&listUpstream{hoard: tc.hoard}, n), n)
		high := heldHeap(t, seeded(&listUpstream{hoard: tc.hoard}, 10*n), 10*n)
		if got := grows(low, high, n, perUser); got != tc.want {
			t.Errorf("hoarding %v: held %d then %d bytes; grows = %v, want %v", tc.hoard, low, high, got, tc.want)
		}
	}
}

func TestRecorder(t *testing.T) {
	rec := &Recorder{}
	ctx := context.Background()
	rec.Users(ctx, []sources.UserRecord{User("b", "b@x"), User("a", "a@x")})
	rec.Groups(ctx, []sources.GroupRecord{Group("g", "G", "a")})
	rec.Users(ctx, []sources.UserRecord{User("a", "a2@x")})
	rec.Deletions(ctx, []sources.Deletion{{Kind: sources.KindUser, Key: "c"}})
	if got := rec.UserKeys(); fmt.Sprint(got) != "[a b]" {
		t.Errorf("UserKeys = %v", got)
	}
	if u, ok := rec.User("a"); !ok || u.Attrs["userName"] != "a2@x" {
		t.Errorf("User(a) = %+v, %v; want the last record sent", u, ok)
	}
	if _, ok := rec.Group("nope"); ok {
		t.Error("Group of an unsent key was found")
	}
	if got := rec.Duplicates(); fmt.Sprint(got) != "[a]" {
		t.Errorf("Duplicates = %v", got)
	}
	if fmt.Sprint(rec.Calls) != "[users groups users deletions]" || fmt.Sprint(rec.UserPages) != "[2 1]" {
		t.Errorf("calls %v, pages %v", rec.Calls, rec.UserPages)
	}
}
