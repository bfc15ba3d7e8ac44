package ldap

import (
	"context"
	"fmt"
	"strings"
)

// Test connects, binds, checks the server is AD and that the base DNs
// exist. The error says which step failed: ErrUnreachable, ErrTLS (with
// the certificate problem), ErrBind (with AD's data code in words) or
// ErrBaseDN (with the server's naming contexts).
func (s *source) Test(ctx context.Context) error {
	c, err := s.connectOrFake(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ses := s.session(c)
	dse, err := ses.rootDSE(ctx)
	if err != nil {
		return err
	}
	if err := dse.checkAD(); err != nil {
		return err
	}
	for _, b := range []struct{ field, dn string }{
		{"baseDN", s.set.baseDN}, {"userBaseDN", s.set.userBaseDN}, {"groupBaseDN", s.set.groupBaseDN},
	} {
		e, err := ses.base(ctx, b.dn, []string{"objectClass"})
		if err != nil {
			return err
		}
		if e == nil {
			return fmt.Errorf("%w: %s %s does not exist on the server (its naming contexts: %s)",
				ErrBaseDN, b.field, b.dn, strings.Join(dse.namingCtx, "; "))
		}
	}
	return nil
}
