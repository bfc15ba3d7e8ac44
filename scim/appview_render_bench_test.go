package scim

import (
	"bytes"
	"testing"

	"github.com/scimgate/scimgate/storage"
)

// BenchmarkViewRender compares rendering one stored user as an app with
// an allow-list sees it with the unscoped copy of the document.
func BenchmarkViewRender(b *testing.B) {
	u := storage.User{
		UserName: "user000042@example.com", DisplayName: "User 42", Active: true,
		Name:       &storage.Name{GivenName: "Given", FamilyName: "Family42"},
		Emails:     []storage.MultiValue{{Value: "user000042@example.com", Type: "work", Primary: true}},
		Enterprise: &storage.EnterpriseExt{EmployeeNumber: "42", Department: "dept42"},
	}
	d, err := userDoc(u)
	if err != nil {
		b.Fatal(err)
	}
	d.ID = "01a23b3e-4d46-7ecd-a628-1231a63aedef"
	v, err := newAppView(storage.App{ID: "app", Attributes: []string{"userName", "name.givenName", "emails.value", "active",
		storage.EnterpriseSchema + ":department"}})
	if err != nil {
		b.Fatal(err)
	}
	var out, scratch bytes.Buffer
	b.Run("unscoped", func(b *testing.B) {
		for b.Loop() {
			out.Reset()
			appendUserDoc(&out, d, "http://localhost/scim/v2")
		}
	})
	b.Run("allow-list", func(b *testing.B) {
		for b.Loop() {
			out.Reset()
			if err := v.appendViewUser(&out, &scratch, d, "http://localhost/scim/v2"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
