package ldap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestLabRangeRetrieval: Samba would return GG-Big's members in one
// piece; the source asks for ranges explicitly, so the requests that
// real AD forces happen here too, and every member arrives.
func TestLabRangeRetrieval(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		step, pageSize int
		wantRequests   int64
	}{
		{1500, 500, int64((l.bigGroup - 1) / 1500)}, // AD's MaxValRange
		{500, 500, int64((l.bigGroup - 1) / 500)},   // smaller steps: more requests, same members
		// Pages of 3 groups: range requests run while the next page is
		// being fetched on the same connection.
		{500, 3, int64((l.bigGroup - 1) / 500)},
	} {
		t.Run(fmt.Sprintf("step %d page %d", tc.step, tc.pageSize), func(t *testing.T) {
			cfg := l.config()
			cfg.UserBaseDN = "OU=Lab," + l.baseDN
			cfg.GroupBaseDN = "OU=Groups,OU=Lab," + l.baseDN
			src := l.open(t, cfg)
			src.set.groupPageSize = tc.pageSize
			src.set.rangeStep = tc.step
			rec := &sourcetest.Recorder{}
			res, err := src.Sync(background(t), sources.Request{}, rec)
			if err != nil || !res.Complete || len(rec.Got.Problems) > 0 {
				t.Fatalf("sync: %+v %v problems %v", res, err, rec.Got.Problems)
			}
			if got := src.stats.rangeRequests.Load(); got != tc.wantRequests || got < 1 {
				t.Errorf("%d range requests, want %d", got, tc.wantRequests)
			}
			bySAM := map[string]string{}
			for _, u := range rec.Got.Users {
				bySAM[u.Attrs["sAMAccountName"]] = u.Key
			}
			var want []string
			for i := 1; i <= l.bigGroup; i++ {
				want = append(want, bySAM[fmt.Sprintf("u%05d", i)])
			}
			slices.Sort(want)
			for _, g := range rec.Got.Groups {
				if g.Attrs["sAMAccountName"] != "GG-Big" {
					continue
				}
				got := slices.Clone(g.Members)
				slices.Sort(got)
				if !slices.Equal(got, want) || !g.MembersComplete {
					t.Errorf("GG-Big: %d members, want %d, the seeded users", len(got), len(want))
				}
				return
			}
			t.Error("GG-Big was not synced")
		})
	}
}

// TestLabLDAPSAndStartTLS: both ways to encrypt pass the DC's
// certificate check and sync.
func TestLabLDAPSAndStartTLS(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		name     string
		url      string
		startTLS bool
	}{
		{"ldaps", l.url, false},
		{"StartTLS", l.startTLSURL, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := l.config()
			cfg.URL, cfg.StartTLS = tc.url, tc.startTLS
			cfg.UserBaseDN = "OU=Sales,OU=Lab," + l.baseDN
			cfg.GroupBaseDN = "OU=Groups,OU=Lab," + l.baseDN
			cfg.GroupFilter = "(sAMAccountName=GG-C*)"
			src := l.open(t, cfg)
			if err := src.Test(background(t)); err != nil {
				t.Fatalf("test: %v", err)
			}
			rec := &sourcetest.Recorder{}
			if _, err := src.Sync(background(t), sources.Request{}, rec); err != nil {
				t.Fatal(err)
			}
			if want := l.users/3 + 1; len(rec.Got.Users) != want || len(rec.Got.Groups) != 3 { // every third user, plus fjackson
				t.Errorf("%d users and %d groups, want %d and 3 (GG-Child, GG-CycleA, GG-CycleB)", len(rec.Got.Users), len(rec.Got.Groups), want)
			}
		})
	}
}

// TestLabTestTellsWhatFailed: the test endpoint's error names the step
// and the reason.
func TestLabTestTellsWhatFailed(t *testing.T) {
	l := needLab(t)
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		wantIs error
		want   string
	}{
		{"all good", func(*Config) {}, nil, ""},
		{"a UPN bind", func(c *Config) { c.BindDN, c.BindPassword = "u00001@example.test", l.userPassword }, nil, ""},
		{"nothing listens", func(c *Config) { c.URL, c.AllowPlaintextBind = "ldap://127.0.0.1:1", true }, ErrUnreachable, "connection refused"},
		{"no CA given", func(c *Config) { c.CAFile = "" }, ErrTLS, `not trusted (issuer "CN=scimgate test CA")`},
		{"ldaps to the plain port", func(c *Config) { c.URL = strings.Replace(l.startTLSURL, "ldap://", "ldaps://", 1) }, ErrTLS, "use ldap:// with startTLS"},
		{"wrong password", func(c *Config) { c.BindDN, c.BindPassword = "u00001@example.test", "wrong" }, ErrBind,
			"the password is wrong (or the user does not exist) (AD data code 52e)"},
		{"disabled account", func(c *Config) { c.BindDN, c.BindPassword = "u00020@example.test", l.userPassword }, ErrBind,
			"the account is disabled (AD data code 533)"},
		{"base DN missing", func(c *Config) { c.BaseDN = "OU=Nowhere," + l.baseDN }, ErrBaseDN,
			"baseDN OU=Nowhere," + l.baseDN + " does not exist on the server (its naming contexts: " + l.baseDN},
		{"group base DN missing", func(c *Config) { c.GroupBaseDN = "OU=Gone,OU=Lab," + l.baseDN }, ErrBaseDN, "groupBaseDN OU=Gone,OU=Lab,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := l.config()
			tc.edit(&cfg)
			err := l.open(t, cfg).Test(background(t))
			if tc.wantIs == nil {
				if err != nil {
					t.Fatalf("test: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.wantIs) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %v containing %q", err, tc.wantIs, tc.want)
			}
		})
	}
}
