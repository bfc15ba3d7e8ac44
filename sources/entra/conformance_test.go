package entra_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/entra"
	"github.com/scimgate/scimgate/sources/entra/graphtest"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		New:           newConformanceTenant,
		Incremental:   true,
		PageSize:      conformancePage,
		IsUnreachable: func(err error) bool { return errors.Is(err, entra.ErrUnreachable) },
		IsBadCredentials: func(err error) bool {
			var ae *entra.AuthError
			return errors.As(err, &ae)
		},
	})
}

const conformancePage = 10

// conformanceTenant is an emulated tenant and the settings sources are
// opened with.
type conformanceTenant struct {
	*tenant
	t   *testing.T
	cfg *entra.Config
}

func newConformanceTenant(t *testing.T) sourcetest.Upstream {
	tn := newTenant(t, graphtest.Options{UserPageSize: conformancePage, GroupPageSize: conformancePage})
	return &conformanceTenant{tenant: tn, t: t, cfg: tn.config()}
}

func (c *conformanceTenant) AddUser(i int) string {
	return c.tenant.AddUser(graphtest.User{UserPrincipalName: upn(i), DisplayName: fmt.Sprintf("User %d", i), JobTitle: "Engineer"})
}

func (c *conformanceTenant) AddGroup(name string, members ...string) string {
	return c.tenant.AddGroup(graphtest.Group{DisplayName: name, Members: members})
}

func (c *conformanceTenant) ChangeUser(id string) {
	c.UpdateUser(id, map[string]any{"jobTitle": "Manager"})
}

func (c *conformanceTenant) DeleteUser(id string) {
	c.tenant.DeleteUser(id)
	c.PurgeUser(id)
}

func (c *conformanceTenant) AddMalformed() {
	c.tenant.AddUser(graphtest.User{UserPrincipalName: "garbled@contoso.example", Garbled: true})
}

func (c *conformanceTenant) BreakCredentials() { c.cfg.ClientSecret = "not-the-secret" }

func (c *conformanceTenant) BreakHost() {
	addr := sourcetest.ClosedAddr(c.t)
	c.cfg.LoginURL, c.cfg.GraphURL = "http://"+addr, "http://"+addr
}

func (c *conformanceTenant) Open(env sources.Env) sources.Source {
	if env.Clock == nil {
		env.Clock = c.clock
	}
	cfg := *c.cfg
	return openWith(c.t, &cfg, env)
}
