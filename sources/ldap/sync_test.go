package ldap

import (
	"context"
	"encoding/json"
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

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// TestForcedRangeReplyShape: AD answers a big group's member with an
// attribute named member;range=0-1499 and no plain member at all.
func TestForcedRangeReplyShape(t *testing.T) {
	vals := make([]string, 1500)
	for i := range vals {
		vals[i] = fmt.Sprintf("<GUID=%08x-0000-0000-0000-0000000000ab>;CN=u%d", i, i)
	}
	e := &goldap.Entry{DN: "CN=Big", Attributes: []*goldap.EntryAttribute{
		goldap.NewEntryAttribute("objectGUID", []string{"x"}),
		goldap.NewEntryAttribute("member;range=0-1499", vals),
	}}
	got, next, last := memberChunk(e)
	if len(got) != 1500 || next != 1500 || last {
		t.Errorf("memberChunk = %d values, next %d, last %v; want 1500, 1500, false", len(got), next, last)
	}
	e.Attributes[1] = goldap.NewEntryAttribute("member;range=4500-*", vals[:500])
	if got, _, last := memberChunk(e); len(got) != 500 || !last {
		t.Errorf("last chunk: %d values, last %v", len(got), last)
	}
	// No member attribute at all: an empty group.
	if got, _, last := memberChunk(&goldap.Entry{}); len(got) != 0 || !last {
		t.Errorf("empty: %d values, last %v", len(got), last)
	}
}

func TestRangeRetrievalFollowsToTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name        string
		size        int
		maxValRange int
		noRanges    bool
		wantFollow  []string // attributes of the follow-up requests
	}{
		{"AD forces 1500 at a time", 5000, 1500, false, []string{"member;range=1500-2999", "member;range=3000-4499", "member;range=4500-5999"}},
		{"AD with a smaller MaxValRange", 2500, 1000, false, []string{"member;range=1000-2499", "member;range=2000-3499"}},
		{"Samba honours the asked range", 5000, 0, false, []string{"member;range=1500-2999", "member;range=3000-4499", "member;range=4500-5999"}},
		{"exactly one range", 1500, 1500, false, nil},
		{"a server without ranges", 5000, 0, true, nil},
		{"a small group", 3, 1500, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDir{maxValRange: tc.maxValRange, noRanges: tc.noRanges}
			users := make([]*fakeObject, tc.size)
			for i := range users {
				users[i] = d.user(fmt.Sprintf("u%05d", i))
			}
			big := d.group("GG-Big", users...)
			src := openFake(d, Config{}, testNow)
			rec := &sourcetest.Recorder{}
			if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
				t.Fatal(err)
			}
			g, ok := rec.Group(big.key())
			if !ok || len(g.Members) != tc.size || !g.MembersComplete {
				t.Fatalf("group: %v", g)
			}
			for i, u := range users {
				if g.Members[i] != u.key() {
					t.Fatalf("member %d = %s, want %s", i, g.Members[i], u.key())
				}
			}
			var follow []string
			for _, r := range d.requestsFor("<GUID=" + big.key() + ">") {
				follow = append(follow, r.attrs...)
			}
			if !reflect.DeepEqual(follow, tc.wantFollow) {
				t.Errorf("follow-up requests %q, want %q", follow, tc.wantFollow)
			}
			if got := src.stats.rangeRequests.Load(); got != int64(len(tc.wantFollow)) {
				t.Errorf("rangeRequests = %d", got)
			}
			groupSearch := d.requestsFor("objectCategory=group")
			if len(groupSearch) != 1 || !slices.Contains(groupSearch[0].attrs, "member;range=0-1499") {
				t.Errorf("the group search must ask for a range explicitly: %+v", groupSearch)
			}
		})
	}
}

// TestStreamsPageByPage: every LDAP page goes to the engine before the
// next is asked for, so a run holds one page.
func TestStreamsPageByPage(t *testing.T) {
	d := &fakeDir{}
	for i := range 1234 {
		d.user(fmt.Sprintf("u%05d", i))
	}
	src := openFake(d, Config{PageSize: 100}, testNow)
	rec := &sourcetest.Recorder{}
	if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	want := append(slices.Repeat([]int{100}, 12), 34)
	if !reflect.DeepEqual(rec.UserPages, want) {
		t.Errorf("pages %v, want %v", rec.UserPages, want)
	}
	for _, r := range d.requestsFor("objectCategory=person") {
		if r.pageSize != 100 {
			t.Errorf("page size asked %d", r.pageSize)
		}
	}
}

// TestPanicInAPrefetchIsReturned: pages are searched on goroutines of the
// source's own; a panic there must come back from Sync as an error the
// engine fails the run with, not end the process.
func TestPanicInAPrefetchIsReturned(t *testing.T) {
	d := &fakeDir{panicSearch: "bug in a search"}
	d.user("ann")
	src := openFake(d, Config{}, testNow)
	_, err := src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
	var pe *sources.PanicError
	if !errors.As(err, &pe) || pe.Value != "bug in a search" {
		t.Fatalf("Sync: err = %v, want the panic as a *sources.PanicError", err)
	}
}

// TestGroupPagesWithRanges: range requests for one page of groups run
// while the next page is fetched on the same connection.
func TestGroupPagesWithRanges(t *testing.T) {
	d := &fakeDir{maxValRange: 1500}
	users := make([]*fakeObject, 2000)
	for i := range users {
		users[i] = d.user(fmt.Sprintf("u%05d", i))
	}
	for g := range 7 {
		d.group(fmt.Sprintf("G%d", g), users[g:]...)
	}
	src := openFake(d, Config{}, testNow)
	src.set.groupPageSize = 2
	rec := &sourcetest.Recorder{}
	if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Got.Groups) != 7 || src.stats.rangeRequests.Load() != 7 {
		t.Fatalf("%d groups, %d range requests; want 7 and 7", len(rec.Got.Groups), src.stats.rangeRequests.Load())
	}
	for g, rec := range rec.Got.Groups {
		if len(rec.Members) != 2000-g || rec.Members[0] != users[g].key() {
			t.Errorf("G%d: %d members, want %d", g, len(rec.Members), 2000-g)
		}
	}
	if n := len(d.requestsFor("objectCategory=group")); n != 4 {
		t.Errorf("%d group pages, want 4 of at most 2", n)
	}
}

func TestUserAttributes(t *testing.T) {
	d := &fakeDir{}
	boss := d.user("boss", "givenName", "Ann", "sn", "Boss", "mail", "ann@example.test", "employeeNumber", "42",
		"whenChanged", "20261125122610.0Z", "objectSid", string([]byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}))
	d.user("off", "userAccountControl", "66050")
	d.user("expired", "accountExpires", "130000000000000000")
	d.user("later", "accountExpires", "159000000000000000", "employeeID", "E7", "employeeNumber", "7")
	noUPN := d.user("noupn", "proxyAddresses", "SMTP:a@x", "proxyAddresses", "smtp:b@x", "thumbnailPhoto", "\xff\xfe")
	delete(noUPN.attrs, "userPrincipalName")
	worker := d.user("worker")
	worker.attrs["manager"] = []string{boss.extDN()}
	for _, tc := range []struct {
		name   string
		cfg    Config
		user   string
		expect map[string]string
	}{
		{"plain", Config{}, "boss", map[string]string{"userName": "boss@example.test", "active": "true", "givenName": "Ann",
			"employeeIDOrNumber": "42", "whenChanged": "2026-11-25T12:26:10Z", "objectGUID": boss.key(), "objectSid": "S-1-5-18",
			"dn": "CN=boss,OU=Users,DC=example,DC=test"}},
		{"disabled bit", Config{}, "off", map[string]string{"active": "false"}},
		{"expired", Config{}, "expired", map[string]string{"active": "false", "accountExpires": "2012-12-14T23:06:40Z"}},
		{"expires later", Config{}, "later", map[string]string{"active": "true", "employeeIDOrNumber": "E7"}},
		{"no UPN falls back", Config{}, "noupn", map[string]string{"userName": "noupn", "proxyAddresses": "SMTP:a@x", "thumbnailPhoto": "//4="}},
		{"sAMAccountName as userName", Config{UserNameAttribute: "sAMAccountName"}, "boss", map[string]string{"userName": "boss"}},
		{"manager by GUID", Config{}, "worker", map[string]string{"manager": boss.key(), "managerDN": boss.dn}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := openFake(d, tc.cfg, testNow)
			src.set.userAttrs = append(src.set.userAttrs, "proxyAddresses", "thumbnailPhoto", "whenChanged", "objectSid")
			rec := &sourcetest.Recorder{}
			if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			for _, u := range rec.Got.Users {
				if strings.HasPrefix(u.Attrs["dn"], "CN="+tc.user+",") {
					got = u.Attrs
				}
			}
			for k, v := range tc.expect {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestOddShapesAreProblemsNotPanics: unreadable entries are reported and
// skipped, the rest goes on.
func TestOddShapesAreProblemsNotPanics(t *testing.T) {
	d := &fakeDir{}
	good := d.user("good")
	noGUID := d.user("noguid")
	shortGUID := d.user("shortguid")
	d.user("baduac", "userAccountControl", "enabled")
	d.user("badexpiry", "accountExpires", "tomorrow")
	empty := d.user("empty")
	empty.attrs["title"] = nil // an attribute without values
	g := d.group("G", good)
	bad := d.group("Plain")
	src := openFake(d, Config{}, testNow)
	src.set.userAttrs = append(src.set.userAttrs, "title")
	// Entries mangled on the way: no GUID, a 5-byte GUID, a plain DN
	// member, a malformed range, a nil attribute.
	mangle := &manglingDir{fakeDir: d, mangle: func(e *goldap.Entry) {
		switch {
		case strings.Contains(e.DN, noGUID.dn):
			e.Attributes = slices.DeleteFunc(e.Attributes, func(a *goldap.EntryAttribute) bool { return a.Name == "objectGUID" })
		case strings.Contains(e.DN, shortGUID.dn):
			for _, a := range e.Attributes {
				if a.Name == "objectGUID" {
					a.Values, a.ByteValues = []string{"abcde"}, [][]byte{[]byte("abcde")}
				}
			}
		case strings.Contains(e.DN, bad.dn):
			e.Attributes = append(e.Attributes, goldap.NewEntryAttribute("member;range=0-*", []string{"CN=no guid,DC=example,DC=test"}),
				goldap.NewEntryAttribute("member;range=oops", []string{"x"}), nil)
		}
	}}
	src.open = func(context.Context) (conn, error) { return mangle, nil }
	rec := &sourcetest.Recorder{}
	if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range rec.Got.Problems {
		problems = append(problems, p.Where+": "+p.Message)
	}
	want := []string{
		noGUID.dn + ": the entry has no objectGUID (is the bind account allowed to read it?)",
		shortGUID.dn + ": objectGUID has 5 bytes, not 16",
		"CN=baduac,OU=Users,DC=example,DC=test: userAccountControl \"enabled\" is not a number",
		"CN=badexpiry,OU=Users,DC=example,DC=test: accountExpires: \"tomorrow\" is not a FILETIME",
		bad.dn + ": 1 member values carry no GUID (the extended-DN control was not applied)",
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	if len(rec.Got.Users) != 2 || len(rec.Got.Groups) != 1 || rec.Got.Groups[0].Key != g.key() || rec.Got.Groups[0].Members[0] != good.key() {
		t.Errorf("users %d groups %+v", len(rec.Got.Users), rec.Got.Groups)
	}
}

// manglingDir edits entries on their way out, to make shapes the fake
// would not make by itself.
type manglingDir struct {
	*fakeDir
	mangle func(*goldap.Entry)
}

func (m *manglingDir) SearchAsync(ctx context.Context, req *goldap.SearchRequest, n int) goldap.Response {
	resp := m.fakeDir.SearchAsync(ctx, req, n).(*fakeResponse)
	for _, r := range resp.results {
		if r.Entry != nil {
			m.mangle(r.Entry)
		}
	}
	return resp
}

func TestNestedGroups(t *testing.T) {
	d := &fakeDir{}
	u := make([]*fakeObject, 7)
	for i := range u {
		u[i] = d.user(fmt.Sprintf("u%d", i))
	}
	grand := d.group("Grandchild", u[4])
	child := d.group("Child", grand, u[2], u[3])
	parent := d.group("Parent", child, u[1])
	cycleA := d.group("CycleA", u[5])
	cycleB := d.group("CycleB", cycleA, u[6])
	cycleA.members = append(cycleA.members, cycleB)
	keys := func(objs ...*fakeObject) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.key())
		}
		return out
	}
	sorted := func(objs ...*fakeObject) []string {
		k := keys(objs...)
		slices.Sort(k)
		return k
	}
	for _, tc := range []struct {
		name   string
		expand bool
		want   map[*fakeObject][]string
	}{
		{"direct members, groups included", false, map[*fakeObject][]string{
			parent: keys(child, u[1]), child: keys(grand, u[2], u[3]), cycleA: keys(u[5], cycleB), cycleB: keys(cycleA, u[6]),
		}},
		{"expanded, cycles end", true, map[*fakeObject][]string{
			parent: sorted(u[1], u[2], u[3], u[4]), child: sorted(u[2], u[3], u[4]), grand: sorted(u[4]),
			cycleA: sorted(u[5], u[6]), cycleB: sorted(u[5], u[6]),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := openFake(d, Config{ExpandNestedGroups: tc.expand}, testNow)
			rec := &sourcetest.Recorder{}
			if _, err := src.Sync(context.Background(), sources.Request{}, rec); err != nil {
				t.Fatal(err)
			}
			for g, want := range tc.want {
				got, ok := rec.Group(g.key())
				if !ok || !reflect.DeepEqual(got.Members, want) {
					t.Errorf("%s members = %v, want %v", g.dn, got, want)
				}
			}
		})
	}
}

func TestIncrementalRuns(t *testing.T) {
	d := &fakeDir{referral: "ldaps://example.test/CN=Configuration,DC=example,DC=test"}
	a := d.user("a")
	b := d.user("b")
	g := d.group("G", a)
	src := openFake(d, Config{}, testNow)
	rec := &sourcetest.Recorder{}
	res, err := src.Sync(context.Background(), sources.Request{}, rec)
	if err != nil || !res.Complete || len(rec.Got.Users) != 2 || len(rec.Got.Groups) != 1 {
		t.Fatalf("first run: %+v %v users %d", res, err, len(rec.Got.Users))
	}
	if src.stats.referrals.Load() == 0 {
		t.Error("the continuation reference was not seen")
	}
	var cur cursor
	if err := json.Unmarshal(res.Cursor, &cur); err != nil || cur.USN != d.usn || cur.DC != d.dc || !cur.FullAt.Equal(testNow) {
		t.Fatalf("cursor %s: %v", res.Cursor, err)
	}
	// b changes, G gains b, a is deleted (a tombstone).
	d.usn++
	d.objects[1].usn, d.objects[1].attrs["title"] = d.usn, []string{"Boss"}
	d.usn++
	g.members, g.usn = []*fakeObject{a, b}, d.usn
	d.usn++
	d.objects = append(d.objects, &fakeObject{guid: a.guid, dn: "CN=a\\0ADEL:x,CN=Deleted Objects,DC=example,DC=test",
		class: "tombstone-user", attrs: map[string][]string{"objectClass": {"top", "person", "user"}}, usn: d.usn})
	rec = &sourcetest.Recorder{}
	res, err = src.Sync(context.Background(), sources.Request{Cursor: res.Cursor}, rec)
	if err != nil || res.Complete {
		t.Fatalf("incremental: %+v %v", res, err)
	}
	if len(rec.Got.Users) != 1 || rec.Got.Users[0].Key != b.key() || len(rec.Got.Groups) != 1 || len(rec.Got.Groups[0].Members) != 2 {
		t.Errorf("incremental sent users %v groups %v", rec.Got.Users, rec.Got.Groups)
	}
	if !reflect.DeepEqual(rec.Got.Deletions, []sources.Deletion{{Kind: sources.KindUser, Key: a.key()}}) {
		t.Errorf("deletions %v", rec.Got.Deletions)
	}
	want := fmt.Sprintf("(uSNChanged>=%d)", cur.USN+1)
	for _, f := range []string{"objectCategory=person", "objectCategory=group", "isDeleted=TRUE"} {
		if r := d.requestsFor(f); !strings.Contains(r[len(r)-1].filter, want) {
			t.Errorf("%s search %q lacks %s", f, r[len(r)-1].filter, want)
		}
	}
	// Nothing changed: nothing sent; the watermark stays.
	rec = &sourcetest.Recorder{}
	res2, err := src.Sync(context.Background(), sources.Request{Cursor: res.Cursor}, rec)
	if err != nil || len(rec.Got.Users)+len(rec.Got.Groups)+len(rec.Got.Deletions) != 0 || string(res2.Cursor) != string(res.Cursor) {
		t.Errorf("quiet run: %v %+v %s", err, rec, res2.Cursor)
	}
	// An account that may not read tombstones: a note, not a failure.
	d.denyTombstones = true
	res3, err := src.Sync(context.Background(), sources.Request{Cursor: res.Cursor}, &sourcetest.Recorder{})
	if err != nil || len(res3.Notes) != 1 || !strings.Contains(res3.Notes[0], "deletions are found by the periodic full run") {
		t.Errorf("denied tombstones: %v %q", err, res3.Notes)
	}
}

func TestPlanFullOrIncremental(t *testing.T) {
	src := openFake(&fakeDir{}, Config{ReconcileEvery: "12h"}, testNow)
	dse := rootDSE{highestUSN: 500, dc: "DC1"}
	mk := func(c cursor) []byte {
		b, _ := json.Marshal(c)
		return b
	}
	recent := testNow.Add(-time.Hour)
	for _, tc := range []struct {
		name     string
		req      sources.Request
		wantFull bool
		wantNote string
	}{
		{"first run", sources.Request{}, true, ""},
		{"asked for full", sources.Request{Full: true, Cursor: mk(cursor{V: 1, USN: 400, DC: "DC1", FullAt: recent})}, true, ""},
		{"incremental", sources.Request{Cursor: mk(cursor{V: 1, USN: 400, DC: "DC1", FullAt: recent})}, false, ""},
		{"garbage cursor", sources.Request{Cursor: []byte("nope")}, true, "could not be read"},
		{"other DC", sources.Request{Cursor: mk(cursor{V: 1, USN: 400, DC: "DC2", FullAt: recent})}, true, "another domain controller (DC1, was DC2)"},
		{"USN went back", sources.Request{Cursor: mk(cursor{V: 1, USN: 900, DC: "DC1", FullAt: recent})}, true, "went back from 900 to 500"},
		{"reconcile due", sources.Request{Cursor: mk(cursor{V: 1, USN: 400, DC: "DC1", FullAt: testNow.Add(-13 * time.Hour)})}, true, "every 12h0m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, full, note := src.plan(tc.req, dse, testNow)
			if full != tc.wantFull || (tc.wantNote == "") != (note == "") || !strings.Contains(note, tc.wantNote) {
				t.Errorf("plan = full %v note %q; want %v %q", full, note, tc.wantFull, tc.wantNote)
			}
		})
	}
}

func TestTombstoneBase(t *testing.T) {
	for _, tc := range []struct{ base, nc, want string }{
		{"DC=example,DC=test", "DC=example,DC=test", "DC=example,DC=test"},
		{"OU=Staff,dc=Example,DC=test", "DC=example,DC=test", "DC=example,DC=test"},
		{"DC=other,DC=test", "DC=example,DC=test", "DC=other,DC=test"},
		{"OU=Staff,DC=example,DC=test", "", "OU=Staff,DC=example,DC=test"},
	} {
		if got := tombstoneBase(tc.base, tc.nc); got != tc.want {
			t.Errorf("tombstoneBase(%q, %q) = %q, want %q", tc.base, tc.nc, got, tc.want)
		}
	}
}
