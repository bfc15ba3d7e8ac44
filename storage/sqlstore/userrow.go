package sqlstore

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// userColumns lists the users columns written on insert, in order.
var userColumns = []string{
	"id", "owner", "external_id", "user_name", "display",
	"display_name", "nick_name", "title", "user_type",
	"preferred_language", "locale", "timezone", "profile_url",
	"active",
	"name_formatted", "name_family", "name_given", "name_middle", "name_prefix", "name_suffix",
	"employee_number", "cost_center", "organization", "division", "department", "manager_id",
	"created", "last_modified", "version", "doc",
}

// userRow is a user flattened into column values (matching userColumns)
// and its multi-valued rows.
type userRow struct {
	values []any
	multi  []valueRow
}

type valueRow struct {
	attr, value, typ, display any
	primary                   bool
}

// folded lower-cases a case-insensitive value; empty becomes NULL so that
// "pr" is IS NOT NULL.
func folded(s string) any {
	if s == "" {
		return nil
	}
	return foldKey(s)
}

// foldKey is the stored and compared form of case-insensitive values.
func foldKey(s string) string { return storage.FoldKey(s) }

func exact(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// toUserRow flattens u (ID, Owner and Meta already set).
func toUserRow(u *storage.User) (userRow, error) {
	doc, err := json.Marshal(u)
	if err != nil {
		return userRow{}, fmt.Errorf("sqlstore: encode user: %w", err)
	}
	var n storage.Name
	if u.Name != nil {
		n = *u.Name
	}
	var e storage.EnterpriseExt
	if u.Enterprise != nil {
		e = *u.Enterprise
	}
	manager := ""
	if e.Manager != nil {
		manager = e.Manager.Value
	}
	display := u.DisplayName
	if display == "" {
		display = u.UserName
	}
	r := userRow{values: []any{
		u.ID, u.Owner, exact(u.ExternalID), foldKey(u.UserName), display,
		folded(u.DisplayName), folded(u.NickName), folded(u.Title), folded(u.UserType),
		folded(u.PreferredLanguage), folded(u.Locale), folded(u.Timezone), folded(u.ProfileURL),
		u.Active,
		folded(n.Formatted), folded(n.FamilyName), folded(n.GivenName), folded(n.MiddleName), folded(n.HonorificPrefix), folded(n.HonorificSuffix),
		folded(e.EmployeeNumber), folded(e.CostCenter), folded(e.Organization), folded(e.Division), folded(e.Department), exact(manager),
		millis(u.Meta.Created), millis(u.Meta.LastModified), u.Meta.Version, string(doc),
	}}
	add := func(attr storage.Attr, vs []storage.MultiValue) {
		for _, v := range vs {
			r.multi = append(r.multi, valueRow{
				attr: string(attr), value: folded(v.Value), typ: folded(v.Type), display: folded(v.Display), primary: v.Primary,
			})
		}
	}
	add(storage.AttrEmails, u.Emails)
	add(storage.AttrPhoneNumbers, u.PhoneNumbers)
	add(storage.AttrIMs, u.IMs)
	add(storage.AttrPhotos, u.Photos)
	add(storage.AttrEntitlements, u.Entitlements)
	add(storage.AttrRoles, u.Roles)
	add(storage.AttrX509Certificates, u.X509Certificates)
	return r, nil
}

// userSelect is the column list reads scan with scanUserDoc.
const userSelect = "users.id, users.owner, users.created, users.last_modified, users.version, users.doc"

type scanner interface{ Scan(dest ...any) error }

func scanUserDoc(sc scanner) (storage.UserDoc, error) {
	var d storage.UserDoc
	var created, modified int64
	var doc sql.RawBytes
	if err := sc.Scan(&d.ID, &d.Owner, &created, &modified, &d.Meta.Version, &doc); err != nil {
		return d, err
	}
	d.Meta.Created, d.Meta.LastModified = fromMillis(created), fromMillis(modified)
	d.JSON = bytes.Clone(doc)
	return d, nil
}

// userSink collects a page of user documents. The documents share one
// buffer: a page is read, rendered and dropped together, and one
// allocation beats a hundred.
type userSink struct {
	rows  int // expected rows, to size the buffers
	list  []storage.UserDoc
	ends  []int // end of each document in arena
	arena []byte
	raw   sql.RawBytes
}

func (u *userSink) scan(rows *sql.Rows, seq *int64, key *any) error {
	var d storage.UserDoc
	var created, modified int64
	if err := rows.Scan(seq, key, &d.ID, &d.Owner, &created, &modified, &d.Meta.Version, &u.raw); err != nil {
		return err
	}
	d.Meta.Created, d.Meta.LastModified = fromMillis(created), fromMillis(modified)
	if len(u.list) == 1 {
		// A second row means a page rather than a lookup: documents of one
		// directory are of similar size, so size the buffers for the whole
		// page once instead of doubling them.
		arena := make([]byte, len(u.arena), len(u.arena)*(u.rows+1)*5/4)
		copy(arena, u.arena)
		u.arena = arena
		u.list = slices.Grow(u.list, u.rows)
		u.ends = slices.Grow(u.ends, u.rows)
	}
	u.arena = append(u.arena, u.raw...)
	u.ends = append(u.ends, len(u.arena))
	u.list = append(u.list, d)
	return nil
}

func (u *userSink) truncate(n int) {
	u.list, u.ends = u.list[:n], u.ends[:n]
}

func (u *userSink) reverse() {
	// Documents are sliced out of the arena by position, so reverse the
	// slices after cutting them, not the arena.
	docs := u.docs()
	slices.Reverse(docs)
	u.list, u.ends, u.arena = docs, nil, nil
}

// docs cuts the documents out of the arena (once; reverse may have done it).
func (u *userSink) docs() []storage.UserDoc {
	if u.ends == nil {
		return u.list
	}
	start := 0
	for i, end := range u.ends {
		u.list[i].JSON = u.arena[start:end:end]
		start = end
	}
	u.ends = nil
	return u.list
}
