package ldap

import (
	"context"
	"slices"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimgate/scimgate/sources"
)

// deletions reports the users and groups deleted since usn, read as
// tombstones under CN=Deleted Objects with the show-deleted control. The
// engine only acts on keys it holds for this source, so tombstones of
// computers or of objects out of scope do no harm; what it acts on goes
// through the deletion guard. An account that may not read tombstones
// yields a note: deletions then wait for the periodic full run.
func (r *reader) deletions(ctx context.Context, dse rootDSE, usn int64) (note string, err error) {
	if !dse.controls[oidShowDeleted] {
		return "the server does not offer the show-deleted control: deletions are found by the periodic full run", nil
	}
	filter := "(&(isDeleted=TRUE)(|(objectClass=user)(objectClass=group))(uSNChanged>=" +
		goldap.EscapeFilter(formatUSN(usn)) + "))"
	base := tombstoneBase(r.set.baseDN, dse.defaultNC)
	ctrls := []goldap.Control{goldap.NewControlMicrosoftShowDeleted()}
	seen := sent{}
	err = r.retried(ctx, "read deleted objects under "+base, func() error {
		return r.paged(ctx, base, filter, []string{"objectGUID", "objectClass"}, ctrls, r.set.pageSize, func(entries []*goldap.Entry) error {
			var page []sources.Deletion
			for _, e := range entries {
				raw := e.GetEqualFoldRawAttributeValue("objectGUID")
				guid, err := decodeGUID(raw)
				if err != nil {
					continue // a tombstone we cannot name is one we never synced
				}
				kind := sources.KindUser
				if slices.ContainsFunc(e.GetEqualFoldAttributeValues("objectClass"), func(c string) bool { return strings.EqualFold(c, "group") }) {
					kind = sources.KindGroup
				}
				if !seen.first(kind + "\x00" + guid) {
					continue // sent before a restart
				}
				page = append(page, sources.Deletion{Kind: kind, Key: guid})
			}
			if len(page) == 0 {
				return nil
			}
			return r.out.Deletions(ctx, page)
		})
	})
	if goldap.IsErrorAnyOf(err, goldap.LDAPResultInsufficientAccessRights, goldap.LDAPResultOperationsError,
		goldap.LDAPResultUnavailableCriticalExtension, goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultNoSuchObject) {
		r.log.Info("ldap: tombstones not readable", "error", err)
		return "deleted objects could not be read with this account (" + diagnostic(err) +
			"): deletions are found by the periodic full run", nil
	}
	return "", err
}

// tombstoneBase is the naming context that holds CN=Deleted Objects for
// baseDN: the domain's, when baseDN lies in it.
func tombstoneBase(baseDN, defaultNC string) string {
	if defaultNC == "" {
		return baseDN
	}
	b, errB := goldap.ParseDN(baseDN)
	nc, errN := goldap.ParseDN(defaultNC)
	if errB == nil && errN == nil && (nc.EqualFold(b) || nc.AncestorOfFold(b)) {
		return defaultNC
	}
	return baseDN
}
