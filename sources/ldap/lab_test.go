package ldap

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// lab is the Samba AD domain controller that scripts/test-env.sh starts
// for `make test` (scripts/samba-ad.sh), described by environment
// variables. Tests that need it skip without them.
type lab struct {
	url, startTLSURL, ca      string
	bindDN, password, baseDN  string
	userPassword              string
	users                     int // seeded users: u00001 ... uNNNNN
	teams                     int
	seededGroups, seededUsers int
	bigGroup                  int
	disabledUsers             int
}

func needLab(t testing.TB) lab {
	t.Helper()
	l := lab{
		url: os.Getenv("SCIMGATE_TEST_LDAP_URL"), startTLSURL: os.Getenv("SCIMGATE_TEST_LDAP_STARTTLS_URL"),
		ca: os.Getenv("SCIMGATE_TEST_LDAP_CA"), bindDN: os.Getenv("SCIMGATE_TEST_LDAP_BIND_DN"),
		password: os.Getenv("SCIMGATE_TEST_LDAP_PASSWORD"), baseDN: os.Getenv("SCIMGATE_TEST_LDAP_BASE_DN"),
		userPassword: os.Getenv("SCIMGATE_TEST_LDAP_USER_PASSWORD"),
	}
	if l.url == "" {
		t.Skip("no Samba AD lab: SCIMGATE_TEST_LDAP_URL is not set (make test starts one when it runs as root with apt; see scripts/samba-ad.sh)")
	}
	l.users, _ = strconv.Atoi(os.Getenv("SCIMGATE_TEST_LDAP_USERS"))
	l.teams, _ = strconv.Atoi(os.Getenv("SCIMGATE_TEST_LDAP_TEAMS"))
	if l.users < 1501 {
		t.Fatalf("the lab has %d users; these tests need GG-Big above 1,500 members (scripts/samba-ad.sh seed 2000)", l.users)
	}
	// What scripts/samba-ad.sh seeds: N users plus fjackson; 8 fixed
	// groups plus the teams; GG-Big holds the first min(N, 5000).
	l.seededUsers = l.users + 1
	l.seededGroups = 8 + l.teams
	l.bigGroup = min(l.users, 5000)
	n := l.users
	l.disabledUsers = n/20 + n/50 - n/100 // UAC 514 every 20th, expired every 50th
	return l
}

// config is the five settings a standard AD needs.
func (l lab) config() Config {
	return Config{URL: l.url, BindDN: l.bindDN, BindPassword: l.password, BaseDN: l.baseDN, CAFile: l.ca}
}

// open validates and opens cfg, with env when given.
func (l lab) open(t testing.TB, cfg Config, env ...sources.Env) *source {
	t.Helper()
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	var e sources.Env
	if len(env) > 0 {
		e = env[0]
	}
	s, err := cfg.Open(e)
	if err != nil {
		t.Fatal(err)
	}
	return s.(*source)
}

// admin is a connection with write rights, for tests that change the
// directory.
func (l lab) admin(t testing.TB) *goldap.Conn {
	t.Helper()
	pem, err := os.ReadFile(l.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := goldap.DialURL(l.url, goldap.DialWithTLSConfig(&tls.Config{RootCAs: pool}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetTimeout(time.Minute)
	if err := c.Bind(l.bindDN, l.password); err != nil {
		t.Fatal(err)
	}
	return c
}

// scratchOU creates a uniquely named OU at the domain root for a test's
// own objects and deletes it with everything under it afterwards, so
// tests never change what scripts/samba-ad.sh seeded and concurrent runs
// do not meet.
func (l lab) scratchOU(t testing.TB, c *goldap.Conn, prefix string) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	dn := fmt.Sprintf("OU=%s-%s,%s", prefix, hex.EncodeToString(b[:]), l.baseDN)
	add(t, c, dn, "organizationalUnit", nil)
	t.Cleanup(func() {
		del := goldap.NewDelRequest(dn, []goldap.Control{goldap.NewControlSubtreeDelete()})
		if err := c.Del(del); err != nil {
			t.Logf("cleanup of %s: %v", dn, err)
		}
	})
	return dn
}

func add(t testing.TB, c *goldap.Conn, dn, class string, attrs map[string][]string) {
	t.Helper()
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{class})
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

func modify(t testing.TB, c *goldap.Conn, dn string, edit func(*goldap.ModifyRequest)) {
	t.Helper()
	req := goldap.NewModifyRequest(dn, nil)
	edit(req)
	if err := c.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

// background is a context for lab calls that bounds a hung DC.
func background(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
