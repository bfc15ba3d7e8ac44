package scim

import (
	"bytes"
	"net/http"
	"slices"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// Groups in a view: the store selects them and filters (or flattens) their
// members; the allow-list does not cover group attributes (appdef.go), so
// this layer only hides the display of user members when the app may not
// see users' names.

// listViewGroups is GET /Groups (and POST /Groups/.search) for an app.
func (s *Server) listViewGroups(w http.ResponseWriter, r *http.Request, p *listParams, v *appView) {
	l := groupList{resource: v.resource("Group"),
		check:  func(q *storage.Query) error { return checkGroupQuery(q, v) },
		render: v.appendViewGroup}
	s.writeGroupList(w, r, p, l, func(body []byte) { writeBody(w, http.StatusOK, body) })
}

// appendViewGroup renders g as the view shows it.
func (v *appView) appendViewGroup(b *bytes.Buffer, g storage.Group, base string, withMembers bool) {
	if !v.memberDisplay {
		for i := range g.Members {
			if g.Members[i].Type == storage.MemberUser {
				g.Members[i].Display = ""
			}
		}
	}
	appendGroup(b, g, base, withMembers)
}

// getViewGroup is GET /Groups/{id} for an app: a list of at most one over
// the view, 404 outside it.
func (s *Server) getViewGroup(w http.ResponseWriter, r *http.Request, id string, v *appView) {
	proj, err := s.requestProjection(r, groupSchema, nil)
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	withMembers := !proj.excludes("members")
	q := storage.Query{Filter: storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: id}, Limit: 1, NoTotal: true, View: v.id}
	page, err := s.store.ListGroups(r.Context(), q, withMembers)
	if err == nil && len(page.Groups) == 0 {
		err = storage.ErrNotFound
	}
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	g := page.Groups[0]
	if notModified(w, r, g.Meta.Version) {
		return
	}
	b, one := getBuffer(), getBuffer()
	defer putBuffer(b)
	defer putBuffer(one)
	base := s.baseURL(r)
	if err := renderProjected(b, one, proj, func(into *bytes.Buffer) error {
		v.appendViewGroup(into, g, base, withMembers)
		return nil
	}); err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	writeResource(w, http.StatusOK, g.Meta.Version, base+"/Groups/"+id, b.Bytes())
}

// checkGroupQuery scopes a group query to the view. A filter on members is
// refused: the store evaluates it over the whole membership, so it would
// tell an app which groups hold a user outside its view. (When the store
// scopes member filters to the view, this check can go.)
func checkGroupQuery(q *storage.Query, v *appView) error {
	if namesAttr(q.Filter, storage.AttrMembers) {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidFilter,
			"an application's view cannot filter groups on members; list the groups (with their members) instead")
	}
	q.View = v.id
	return nil
}

// namesAttr reports whether e names the attribute a (at its top level).
func namesAttr(e storage.Expr, a storage.Attr) bool {
	switch e := e.(type) {
	case storage.Compare:
		return e.Attr == a
	case storage.ValuePath:
		return e.Attr == a
	case storage.In:
		return e.Attr == a
	case storage.And:
		return namesAttr(e.Left, a) || namesAttr(e.Right, a)
	case storage.Or:
		return namesAttr(e.Left, a) || namesAttr(e.Right, a)
	case storage.Not:
		return namesAttr(e.X, a)
	case storage.AllOf:
		return slices.ContainsFunc(e.Xs, func(x storage.Expr) bool { return namesAttr(x, a) })
	case storage.AnyOf:
		return slices.ContainsFunc(e.Xs, func(x storage.Expr) bool { return namesAttr(x, a) })
	}
	return false
}
