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

// userAttrColumn is a users column that holds an attribute of the
// attribute table, and how a user's value is stored in it.
type userAttrColumn struct {
	name  string
	value func(u *storage.User) any
}

// userAttrColumns are the attribute columns after id, in table order.
var userAttrColumns = func() []userAttrColumn {
	var out []userAttrColumn
	for _, a := range storage.UserAttrs() {
		if a.Values != nil || a.Attr == storage.AttrID {
			continue
		}
		col := usersTable.single[a.Attr]
		out = append(out, userAttrColumn{name: a.Column, value: func(u *storage.User) any {
			switch col.kind {
			case kindBool:
				return a.Bool(u)
			case kindTime:
				return millis(a.Time(u))
			}
			return storedText(col, a.String(u))
		}})
	}
	return out
}()

// userColumns lists the users columns written on insert, in order: id
// first, as updates skip it.
var userColumns = func() []string {
	out := []string{"id", "owner", "display"}
	for _, c := range userAttrColumns {
		out = append(out, c.name)
	}
	return append(out, "version", "doc")
}()

// userValueAttrs are the multi-valued attributes kept in user_values, in
// table order, with the columns of the sub-attributes a row stores.
var userValueAttrs = func() []storage.AttrSpec[storage.User] {
	var out []storage.AttrSpec[storage.User]
	for _, a := range storage.UserAttrs() {
		if a.Values != nil && a.Values.Name == "user_values" {
			out = append(out, a)
		}
	}
	return out
}()

// storedText is a string as col stores it: folded for case-insensitive
// columns, and NULL for an empty value of a nullable column, so that "pr"
// is IS NOT NULL.
func storedText(col column, s string) any {
	if s == "" && !col.notNull {
		return nil
	}
	if col.kind == kindFolded {
		return foldKey(s)
	}
	return s
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
	display := u.DisplayName
	if display == "" {
		display = u.UserName
	}
	values := make([]any, 0, len(userColumns))
	values = append(values, u.ID, u.Owner, display)
	for _, c := range userAttrColumns {
		values = append(values, c.value(u))
	}
	r := userRow{values: append(values, u.Meta.Version, string(doc))}
	for _, a := range userValueAttrs {
		subs := usersTable.multi[a.Attr].subs
		for _, v := range a.Elements(u) {
			r.multi = append(r.multi, valueRow{
				attr:    string(a.Attr),
				value:   storedText(subs[storage.SubValue], v.Value),
				typ:     storedText(subs[storage.SubType], v.Type),
				display: storedText(subs[storage.SubDisplay], v.Display),
				primary: v.Primary,
			})
		}
	}
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
	rows  int  // expected rows, to size the buffers
	view  bool // an app's view: each row ends with its departed flag
	list  []storage.UserDoc
	ends  []int // end of each document in arena
	arena []byte
	raw   sql.RawBytes
}

func (u *userSink) scan(rows *sql.Rows, seq *int64, key *any) error {
	var d storage.UserDoc
	var created, modified int64
	var err error
	if u.view {
		err = rows.Scan(seq, key, &d.ID, &d.Owner, &created, &modified, &d.Meta.Version, &u.raw, &d.Departed)
	} else {
		err = rows.Scan(seq, key, &d.ID, &d.Owner, &created, &modified, &d.Meta.Version, &u.raw)
	}
	if err != nil {
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
