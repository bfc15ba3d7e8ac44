package ldap

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// fakeDir is an in-memory directory that answers the searches a sync
// makes, the way AD does: paged results, extended DNs, and (with
// maxValRange set) forced range retrieval of member values.
type fakeDir struct {
	mu      sync.Mutex
	objects []*fakeObject
	// maxValRange > 0 hands out member values that many at a time, as AD
	// does (1500), whatever range was asked for; 0 honours the request
	// as Samba does.
	maxValRange int
	// noRanges answers as a server without range retrieval: plain member.
	noRanges bool
	// referral is sent as a continuation reference in every subtree search.
	referral string
	usn      int64
	dc       string
	// log of what was asked
	requests []fakeRequest
	// failSearch makes subtree searches fail with this error.
	failSearch error
	// panicSearch makes subtree searches panic with this value.
	panicSearch any
	// denyTombstones answers the show-deleted search as a plain account
	// would be answered: insufficient access.
	denyTombstones bool
	// fault, when set, is asked before every paged search (n counts them
	// from 1 over the fake's life) and fails it with the error it returns.
	// A network error also breaks the connection until the next open.
	fault func(n int) error
	paged int
	// opens counts connections; a paging cookie carries the connection it
	// came from and is refused on another, as a DC does.
	opens, closes int
	broken        bool
}

type fakeRequest struct {
	base, filter string
	attrs        []string
	pageSize     uint32
}

type fakeObject struct {
	guid    [16]byte
	dn      string
	class   string // user, group, tombstone-user, tombstone-group
	attrs   map[string][]string
	members []*fakeObject
	usn     int64
}

func (o *fakeObject) key() string {
	g, _ := decodeGUID(o.guid[:])
	return g
}

func (o *fakeObject) extDN() string { return "<GUID=" + o.key() + ">;" + o.dn }

func fakeGUID(n int) [16]byte {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:4], uint32(n))
	g[15] = 0xab
	return g
}

func (d *fakeDir) add(class, dn string, attrs map[string][]string, members ...*fakeObject) *fakeObject {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.usn++
	o := &fakeObject{guid: fakeGUID(len(d.objects) + 1), dn: dn, class: class, attrs: attrs, members: members, usn: d.usn}
	d.objects = append(d.objects, o)
	return o
}

func (d *fakeDir) user(name string, extra ...string) *fakeObject {
	attrs := map[string][]string{"sAMAccountName": {name}, "userPrincipalName": {name + "@example.test"}, "userAccountControl": {"512"}}
	given := map[string]bool{} // the first value given replaces a default
	for i := 0; i+1 < len(extra); i += 2 {
		if !given[extra[i]] {
			attrs[extra[i]] = nil
			given[extra[i]] = true
		}
		attrs[extra[i]] = append(attrs[extra[i]], extra[i+1])
	}
	return d.add("user", "CN="+name+",OU=Users,DC=example,DC=test", attrs)
}

func (d *fakeDir) group(name string, members ...*fakeObject) *fakeObject {
	return d.add("group", "CN="+name+",OU=Groups,DC=example,DC=test", map[string][]string{"sAMAccountName": {name}, "cn": {name}}, members...)
}

// SearchAsync answers from the objects, following the request's controls.
func (d *fakeDir) SearchAsync(_ context.Context, req *goldap.SearchRequest, _ int) goldap.Response {
	d.mu.Lock()
	defer d.mu.Unlock()
	fr := fakeRequest{base: req.BaseDN, filter: req.Filter, attrs: append([]string{}, req.Attributes...)}
	paging, _ := goldap.FindControl(req.Controls, oidPaging).(*goldap.ControlPaging)
	if paging != nil {
		fr.pageSize = paging.PagingSize
	}
	d.requests = append(d.requests, fr)
	resp := &fakeResponse{}
	if d.broken || d.closes >= d.opens && d.opens > 0 {
		resp.err = goldap.NewError(goldap.ErrorNetwork, fmt.Errorf("ldap: connection closed"))
		return resp
	}
	if paging != nil && d.fault != nil {
		d.paged++
		if err := d.fault(d.paged); err != nil {
			d.broken = goldap.IsErrorAnyOf(err, goldap.ErrorNetwork)
			resp.err = err
			return resp
		}
	}
	switch {
	case req.BaseDN == "" && req.Scope == goldap.ScopeBaseObject:
		resp.add(&goldap.SearchSingleResult{Entry: goldap.NewEntry("", map[string][]string{
			"highestCommittedUSN": {strconv.FormatInt(d.usn, 10)}, "dsServiceName": {d.dc},
			"defaultNamingContext": {"DC=example,DC=test"}, "namingContexts": {"DC=example,DC=test"},
			"supportedControl": {oidPaging, oidExtendedDN, oidShowDeleted},
		})})
		return resp
	case req.Scope == goldap.ScopeBaseObject:
		for _, o := range d.objects {
			if "<GUID="+o.key()+">" == req.BaseDN || strings.EqualFold(o.dn, req.BaseDN) {
				resp.add(&goldap.SearchSingleResult{Entry: d.entry(o, req.Attributes)})
				return resp
			}
		}
		if strings.EqualFold(req.BaseDN, "DC=example,DC=test") {
			resp.add(&goldap.SearchSingleResult{Entry: goldap.NewEntry(req.BaseDN, nil)})
			return resp
		}
		resp.err = goldap.NewError(goldap.LDAPResultNoSuchObject, fmt.Errorf("0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT)"))
		return resp
	}
	if d.failSearch != nil {
		resp.err = d.failSearch
		return resp
	}
	if d.panicSearch != nil {
		panic(d.panicSearch)
	}
	if d.denyTombstones && strings.Contains(req.Filter, "isDeleted=TRUE") {
		resp.err = goldap.NewError(goldap.LDAPResultInsufficientAccessRights, fmt.Errorf("00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS)"))
		return resp
	}
	var matched []*fakeObject
	from := usnFrom(req.Filter)
	for _, o := range d.objects {
		var want bool
		switch {
		case strings.Contains(req.Filter, "isDeleted=TRUE"):
			want = strings.HasPrefix(o.class, "tombstone-")
		case strings.Contains(req.Filter, "objectCategory=person"):
			want = o.class == "user"
		case strings.Contains(req.Filter, "objectCategory=group"):
			want = o.class == "group"
		}
		if want && o.usn >= from {
			matched = append(matched, o)
		}
	}
	start := 0
	if paging != nil && len(paging.Cookie) > 0 {
		conn, offset, _ := strings.Cut(string(paging.Cookie), ":")
		if conn != strconv.Itoa(d.opens) {
			resp.err = goldap.NewError(goldap.LDAPResultUnwillingToPerform, fmt.Errorf("00000057: LdapErr: DSID-0C090A71, the paging cookie belongs to another connection"))
			return resp
		}
		start, _ = strconv.Atoi(offset)
	}
	end := len(matched)
	if paging != nil && paging.PagingSize > 0 {
		end = min(start+int(paging.PagingSize), len(matched))
	}
	for _, o := range matched[start:end] {
		resp.add(&goldap.SearchSingleResult{Entry: d.entry(o, req.Attributes)})
	}
	if d.referral != "" {
		resp.add(&goldap.SearchSingleResult{Referral: d.referral})
	}
	if paging != nil {
		cookie := ""
		if end < len(matched) {
			cookie = strconv.Itoa(d.opens) + ":" + strconv.Itoa(end)
		}
		done := goldap.NewControlPaging(0)
		done.SetCookie([]byte(cookie))
		resp.add(&goldap.SearchSingleResult{Controls: []goldap.Control{done}})
	}
	return resp
}

// usnFrom reads N out of (uSNChanged>=N) in a filter; 0 without one.
func usnFrom(filter string) int64 {
	_, rest, ok := strings.Cut(filter, "(uSNChanged>=")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ')')], 10, 64)
	return n
}

// entry renders an object with the requested attributes.
func (d *fakeDir) entry(o *fakeObject, requested []string) *goldap.Entry {
	e := &goldap.Entry{DN: o.extDN()}
	for _, want := range requested {
		name, rng, hasRange, _ := splitAttr(want)
		switch {
		case strings.EqualFold(name, "objectGUID"):
			e.Attributes = append(e.Attributes, &goldap.EntryAttribute{Name: "objectGUID", Values: []string{string(o.guid[:])}, ByteValues: [][]byte{o.guid[:]}})
		case strings.EqualFold(name, "member"):
			if attr := d.memberAttr(o, rng, hasRange); attr != nil {
				e.Attributes = append(e.Attributes, attr)
			}
		default:
			for k, vals := range o.attrs {
				if strings.EqualFold(k, name) {
					e.Attributes = append(e.Attributes, goldap.NewEntryAttribute(k, vals))
				}
			}
		}
	}
	return e
}

// memberAttr answers a member request the way the configured server would.
func (d *fakeDir) memberAttr(o *fakeObject, rng attrRange, hasRange bool) *goldap.EntryAttribute {
	all := make([]string, len(o.members))
	for i, m := range o.members {
		all[i] = m.extDN()
	}
	if len(all) == 0 {
		return nil
	}
	if d.noRanges {
		return goldap.NewEntryAttribute("member", all)
	}
	low, high := 0, len(all)-1
	if hasRange {
		low = rng.low
		if !rng.last {
			high = min(rng.high, high)
		}
	}
	if d.maxValRange > 0 {
		high = min(high, low+d.maxValRange-1)
	}
	if !hasRange && high == len(all)-1 {
		return goldap.NewEntryAttribute("member", all) // small enough: no range
	}
	if low >= len(all) {
		return goldap.NewEntryAttribute(fmt.Sprintf("member;range=%d-*", low), nil)
	}
	end := strconv.Itoa(high)
	if high == len(all)-1 {
		end = "*"
	}
	return goldap.NewEntryAttribute(fmt.Sprintf("member;range=%d-%s", low, end), all[low:high+1])
}

func (d *fakeDir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closes++
	return nil
}

// connect stands for dialing and binding: a new, working connection.
func (d *fakeDir) connect(context.Context) (conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opens++
	d.broken = false
	return d, nil
}

func (d *fakeDir) requestsFor(substr string) []fakeRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []fakeRequest
	for _, r := range d.requests {
		if strings.Contains(r.base+" "+r.filter+" "+strings.Join(r.attrs, ","), substr) {
			out = append(out, r)
		}
	}
	return out
}

// fakeResponse replays prepared results.
type fakeResponse struct {
	results []*goldap.SearchSingleResult
	cur     *goldap.SearchSingleResult
	err     error
}

func (r *fakeResponse) add(res *goldap.SearchSingleResult) { r.results = append(r.results, res) }

func (r *fakeResponse) Next() bool {
	if len(r.results) == 0 {
		return false
	}
	r.cur, r.results = r.results[0], r.results[1:]
	return true
}

func (r *fakeResponse) Entry() *goldap.Entry {
	if r.cur == nil {
		return nil
	}
	return r.cur.Entry
}

func (r *fakeResponse) Referral() string {
	if r.cur == nil {
		return ""
	}
	return r.cur.Referral
}

func (r *fakeResponse) Controls() []goldap.Control {
	if r.cur == nil {
		return nil
	}
	return r.cur.Controls
}

func (r *fakeResponse) Err() error { return r.err }

// openFake opens a source over d with cfg (url etc. filled in).
func openFake(d *fakeDir, cfg Config, now time.Time) *source {
	if cfg.URL == "" {
		cfg.URL = "ldaps://dc1.example.test"
	}
	cfg.BindDN, cfg.BindPassword, cfg.BaseDN = "CN=reader,DC=example,DC=test", "x", "DC=example,DC=test"
	set, errs := cfg.settings()
	if len(errs) > 0 {
		panic(fmt.Sprint(errs))
	}
	if d.dc == "" {
		d.dc = "CN=NTDS Settings,CN=DC1"
	}
	env := sources.Env{Clock: sourcetest.NewClock(now)}.WithDefaults()
	return &source{set: set, log: env.Logger, clock: env.Clock, upstream: env.Upstream, open: d.connect}
}
