package outbound_test

import (
	"testing"

	"github.com/scimgate/scimgate/scim/outbound"
	"github.com/scimgate/scimgate/storage"
)

// AWS IAM Identity Center keeps one value of a multi-valued user
// attribute and refuses more (and some attributes altogether): the aws
// profile sends the primary value, or else the first, without display,
// and leaves out what the target does not have, so such users are
// created instead of refused. The generic profile sends everything.
func TestPushFitsUsersToSingleValuedTargets(t *testing.T) {
	many := func(u *storage.User) {
		u.Emails = []storage.MultiValue{
			{Value: "home@example.org", Type: "home", Display: "Home"},
			{Value: "work@example.com", Type: "work", Primary: true, Display: "Work"},
		}
		u.PhoneNumbers = []storage.MultiValue{{Value: "+1 555 0100", Type: "work"}, {Value: "+1 555 0101", Type: "mobile"}}
		u.IMs = []storage.MultiValue{{Value: "ann@chat", Type: "xmpp"}}
	}
	cases := []struct {
		profile              string
		emails, phones, ims  int
		email, phone, noDisp bool
	}{
		{profile: "aws", emails: 1, phones: 1, ims: 0, email: true, phone: true, noDisp: true},
		{profile: "generic", emails: 2, phones: 2, ims: 1},
	}
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			f := newPushFixture(t, fixtureOptions{profile: tc.profile})
			f.user("ann", many)
			out := f.mustRun(outbound.PushJob{Full: true})
			if out.Run.Counts.Created != 1 || out.Run.Counts.Errors != 0 {
				t.Fatalf("counts %s, want the user created without errors", counts(out.Run.Counts))
			}
			u := f.targetUser("ann")
			emails, _ := u["emails"].([]any)
			phones, _ := u["phoneNumbers"].([]any)
			ims, _ := u["ims"].([]any)
			if len(emails) != tc.emails || len(phones) != tc.phones || len(ims) != tc.ims {
				t.Fatalf("target user has %d emails, %d phones, %d ims; want %d, %d, %d: %v", len(emails), len(phones), len(ims), tc.emails, tc.phones, tc.ims, u)
			}
			if tc.email {
				e := emails[0].(map[string]any)
				if e["value"] != "work@example.com" || (tc.noDisp && e["display"] != nil) {
					t.Errorf("the one email = %v, want the primary work@example.com without display", e)
				}
			}
			if tc.phone && phones[0].(map[string]any)["value"] != "+1 555 0100" {
				t.Errorf("the one phone = %v, want the first", phones[0])
			}
			// A second run finds nothing to change: the fitted body is
			// what the hash remembers.
			if again := f.mustRun(outbound.PushJob{}); again.Run.Counts.Updated != 0 || again.Run.Counts.Created != 0 {
				t.Errorf("second run counts %s, want nothing sent", counts(again.Run.Counts))
			}
		})
	}
}
