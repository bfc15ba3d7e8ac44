package ldap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestConformance runs the connector conformance suite over the fake
// directory (lab_conformance_test.go runs it against the Samba lab).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New:              newFakeUpstream,
		Incremental:      true,
		PageSize:         fakePageSize,
		IsUnreachable:    func(err error) bool { return errors.Is(err, ErrUnreachable) },
		IsBadCredentials: func(err error) bool { return errors.Is(err, ErrBind) },
	})
}

const (
	fakePageSize = 10
	fakeURL      = "ldaps://dc1.example.test"
)

// fakeUpstream drives a fakeDir the way AD changes: every change takes the
// next USN, a deletion leaves a tombstone.
type fakeUpstream struct {
	t   *testing.T
	d   *fakeDir
	url string // fakeURL until the host or the credentials break
}

func newFakeUpstream(t *testing.T) sourcetest.Upstream {
	return &fakeUpstream{t: t, d: &fakeDir{}, url: fakeURL}
}

func (u *fakeUpstream) AddUser(i int) string {
	return u.d.user(fmt.Sprintf("u%05d", i), "title", "Engineer").key()
}

func (u *fakeUpstream) object(key string) *fakeObject {
	for _, o := range u.d.objects {
		if o.key() == key && (o.class == "user" || o.class == "group") {
			return o
		}
	}
	u.t.Fatalf("no object %s", key)
	return nil
}

func (u *fakeUpstream) AddGroup(name string, members ...string) string {
	objs := make([]*fakeObject, 0, len(members))
	for _, m := range members {
		objs = append(objs, u.object(m))
	}
	return u.d.group(name, objs...).key()
}

func (u *fakeUpstream) ChangeUser(key string) {
	o := u.object(key)
	u.d.mu.Lock()
	defer u.d.mu.Unlock()
	u.d.usn++
	o.usn, o.attrs["title"] = u.d.usn, []string{"Manager"}
}

func (u *fakeUpstream) DeleteUser(key string) {
	o := u.object(key)
	u.d.mu.Lock()
	defer u.d.mu.Unlock()
	u.d.usn++
	o.class = "gone" // no search finds the live object any more
	u.d.objects = append(u.d.objects, &fakeObject{guid: o.guid, dn: "CN=" + key + "\\0ADEL:x,CN=Deleted Objects,DC=example,DC=test",
		class: "tombstone-user", attrs: map[string][]string{"objectClass": {"top", "person", "user"}}, usn: u.d.usn})
}

func (u *fakeUpstream) AddMalformed() { u.d.user("broken", "accountExpires", "next tuesday") }

// BreakCredentials points sources at a server that refuses every bind
// as AD refuses a wrong password; the real dial and bind code meets it.
func (u *fakeUpstream) BreakCredentials() {
	diag := "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563"
	refusal := append([]byte{0x0a, 0x01, goldap.LDAPResultInvalidCredentials, 0x04, 0x00, 0x04, byte(len(diag))}, diag...)
	refusal = append([]byte{0x61, byte(len(refusal))}, refusal...) // BindResponse
	refusal = append([]byte{0x02, 0x01, 0x01}, refusal...)         // messageID 1
	refusal = append([]byte{0x30, byte(len(refusal))}, refusal...) // LDAPMessage
	u.url = "ldap://" + serve(u.t, func(c net.Conn) {
		c.Read(make([]byte, 512)) // the bind request
		c.Write(refusal)
		io.Copy(io.Discard, c) // until the client hangs up
	})
}

// BreakHost points sources at a port nothing listens on.
func (u *fakeUpstream) BreakHost() {
	addr := sourcetest.ClosedAddr(u.t)
	u.url = "ldap://" + addr
}

// Open opens a source over the fake directory; once the host or the
// credentials are broken, it dials for real.
func (u *fakeUpstream) Open(env sources.Env) sources.Source {
	cfg := Config{URL: u.url, AllowPlaintextBind: true, PageSize: fakePageSize, Timeout: "5s",
		BindDN: "CN=reader,DC=example,DC=test", BindPassword: "x", BaseDN: "DC=example,DC=test"}
	set, errs := cfg.settings()
	if len(errs) > 0 {
		u.t.Fatal(errs)
	}
	if u.d.dc == "" {
		u.d.dc = "CN=NTDS Settings,CN=DC1"
	}
	if env.Clock == nil {
		env.Clock = sourcetest.NewClock(testNow)
	}
	env = env.WithDefaults()
	src := &source{set: set, log: env.Logger, clock: env.Clock, upstream: env.Upstream}
	if u.url == fakeURL {
		src.open = u.d.connect
	}
	return src
}
