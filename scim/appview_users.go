package scim

import (
	"bytes"
	"net/http"

	"github.com/scimgate/scimgate/storage"
)

// listViewUsers is GET /Users (and POST /Users/.search) for an app: the
// unscoped list's parameters, paging and envelope, over the view.
func (s *Server) listViewUsers(w http.ResponseWriter, r *http.Request, p *listParams, v *appView) {
	s.writeUserList(w, r, p, v.userList(), func(body []byte) { writeBody(w, http.StatusOK, body) })
}

// userList is the view's way of listing users: cursors bound to the
// view, hidden attributes refused in filters and sorts, users rendered
// as the app sees them.
func (v *appView) userList() userList {
	return userList{resource: v.resource("User"), check: v.checkUserQuery, render: v.appendViewUser}
}

// viewUser reads one user of the view: a list of at most one, so the
// store applies the view exactly as for lists.
func (s *Server) viewUser(r *http.Request, id string, v *appView) (storage.UserDoc, error) {
	q := storage.Query{Filter: storage.Compare{Attr: storage.AttrID, Op: storage.OpEq, Value: id}, Limit: 1, NoTotal: true, View: v.id}
	page, err := s.store.ListUsers(r.Context(), q)
	if err != nil {
		return storage.UserDoc{}, err
	}
	if len(page.Users) == 0 {
		// The same answer as for an id that does not exist at all.
		return storage.UserDoc{}, storage.ErrNotFound
	}
	return page.Users[0], nil
}

// getViewUser is GET /Users/{id} for an app: 404 outside the view, the
// ETag from the version the app sees.
func (s *Server) getViewUser(w http.ResponseWriter, r *http.Request, id string, v *appView) {
	proj, err := s.requestProjection(r, userSchema, []string{storage.EnterpriseSchema})
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	d, err := s.viewUser(r, id, v)
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	if notModified(w, r, d.Meta.Version) {
		return
	}
	b, one, scratch := getBuffer(), getBuffer(), getBuffer()
	defer putBuffer(b)
	defer putBuffer(one)
	defer putBuffer(scratch)
	base := s.baseURL(r)
	err = renderProjected(b, one, proj, func(into *bytes.Buffer) error { return v.appendViewUser(into, scratch, d, base) })
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	writeResource(w, http.StatusOK, d.Meta.Version, base+"/Users/"+id, b.Bytes())
}
