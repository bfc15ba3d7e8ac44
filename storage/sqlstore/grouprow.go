package sqlstore

import (
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// groupAttrs are the group attributes that writes store in columns of
// their own, from the attribute table: every single-valued one but id and
// the date-times, which the statements set themselves.
var groupAttrs = func() []storage.AttrSpec[storage.Group] {
	var out []storage.AttrSpec[storage.Group]
	for _, a := range storage.GroupAttrs() {
		if a.Values == nil && a.Attr != storage.AttrID && a.Type == storage.TypeString {
			out = append(out, a)
		}
	}
	return out
}()

// groupAttrList is the column list of groupAttrs ("external_id,
// display_name"), and groupAttrSet its "col = ?" form for updates.
var (
	groupAttrList = func() string {
		cols := make([]string, len(groupAttrs))
		for i, a := range groupAttrs {
			cols[i] = a.Column
		}
		return strings.Join(cols, ", ")
	}()
	groupAttrSet = strings.ReplaceAll(groupAttrList, ",", " = ?,") + " = ?"
)

// groupAttrValues are g's values for groupAttrs, as the columns store them.
func groupAttrValues(g *storage.Group) []any {
	out := make([]any, len(groupAttrs))
	for i, a := range groupAttrs {
		out[i] = storedText(groupsTable.single[a.Attr], a.String(g))
	}
	return out
}

// sameGroupAttrs reports whether a and b agree on every groupAttrs.
func sameGroupAttrs(a, b *storage.Group) bool {
	for _, attr := range groupAttrs {
		if attr.String(a) != attr.String(b) {
			return false
		}
	}
	return true
}

// copyGroupAttrs sets dst's groupAttrs to src's.
func copyGroupAttrs(dst, src *storage.Group) {
	for _, a := range groupAttrs {
		a.SetString(dst, a.String(src))
	}
}

// placeholders is n comma-separated "?".
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
