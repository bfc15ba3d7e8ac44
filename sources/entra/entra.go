// Package entra is the Microsoft Entra ID source kind: users, groups and
// memberships read from Microsoft Graph with plain net/http and
// golang.org/x/oauth2 client credentials (a client secret, or a
// certificate through private_key_jwt).
//
// The first run is a full enumeration by delta query (/users/delta and
// /groups/delta with an explicit $select); the deltaLinks it ends with are
// the cursor, and later runs replay them to apply only what changed:
// @removed users (soft-deleted: deactivated; permanently deleted: removed
// per the deletion policy), members@delta additions and removals, changed
// attributes. A stale token (410 Gone, syncStateNotFound, resyncRequired)
// turns the run into a full resync, reported in the run.
//
// sources/entra/graphtest is the emulator the tests run against.
package entra

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// Kind registers the entra kind. The default mapping follows Entra's own
// SCIM provisioning mapping (use-scim-to-provision-users-and-groups),
// except that the Graph id, not mailNickname, is externalId: it never
// changes.
func Kind() sources.Kind {
	return sources.Kind{
		New:         func() sources.Config { return &Config{} },
		Description: "Users, groups and memberships from Microsoft Entra ID (Azure AD) through Microsoft Graph, incremental by delta query.",
		UserMapping: sources.Mapping{
			"externalId":                "{id}",
			"userName":                  "{userPrincipalName}",
			"displayName":               "{displayName}",
			"name.givenName":            "{givenName}",
			"name.familyName":           "{surname}",
			"emails.work":               "{mail}",
			"active":                    "{active}",
			"title":                     "{jobTitle}",
			"phoneNumbers.work":         "{businessPhones}",
			"phoneNumbers.mobile":       "{mobilePhone}",
			"preferredLanguage":         "{preferredLanguage}",
			"userType":                  "{userType}",
			"enterprise.employeeNumber": "{employeeId}",
			"enterprise.department":     "{department}",
			"enterprise.organization":   "{companyName}",
			"enterprise.manager":        "{manager}",
		},
		GroupMapping: sources.Mapping{
			"displayName": "{displayName}",
			"externalId":  "{id}",
		},
	}
}

type source struct {
	cfg    Config
	log    *slog.Logger
	client *client
	tokens *tokenSource
}

var (
	_ sources.Source = (*source)(nil)
	_ sources.Tester = (*source)(nil)
)

// Requests is how many HTTP requests the source sent to Graph (token
// requests excluded); benchmarks report it.
func Requests(s sources.Source) int64 {
	if es, ok := s.(*source); ok {
		return es.client.sent.Load()
	}
	return 0
}

// Test signs in and reads one user and one group's members, and says in
// an admin's words what is missing.
func (s *source) Test(ctx context.Context) error {
	if _, err := s.tokens.token(ctx); err != nil {
		return err
	}
	base := s.cfg.graphURL() + "/v1.0"
	var missing []string
	var users page
	switch err := s.client.get(ctx, base+"/users?$top=1&$select=id,userPrincipalName", &users); {
	case isDenied(err):
		missing = append(missing, "User.Read.All (to read users)")
	case err != nil:
		return err
	}
	var groups page
	err := s.client.get(ctx, base+"/groups?$top=1&$select=id", &groups)
	if err == nil && len(groups.Value) > 0 {
		p, perr := parseObject(groups.Value[0])
		if perr == nil {
			var members page
			err = s.client.get(ctx, base+"/groups/"+url.PathEscape(p.id)+"/members?$top=1&$select=id", &members)
		}
	}
	switch {
	case isDenied(err):
		missing = append(missing, "GroupMember.Read.All (to read groups and their members)")
	case err != nil:
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("entra: signed in as app %s, but it lacks the Microsoft Graph application permission %s; in the Entra admin center open App registrations > this app > API permissions, add them as Application permissions, and grant admin consent",
			s.cfg.ClientID, strings.Join(missing, " and "))
	}
	for _, g := range s.cfg.ScopeGroups {
		var one object
		if err := s.client.get(ctx, base+"/groups/"+url.PathEscape(g)+"?$select=id,displayName", &one); err != nil {
			return fmt.Errorf("entra: scope group %s cannot be read: %w", g, err)
		}
	}
	return nil
}
