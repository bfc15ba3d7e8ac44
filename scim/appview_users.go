package scim

import (
	"bytes"
	"net/http"

	"github.com/scimgate/scimgate/storage"
)

// listViewUsers is GET /Users (and POST /Users/.search) for an app: the
// unscoped list's parameters, paging and envelope, over the view.
func (s *Server) listViewUsers(w http.ResponseWriter, r *http.Request, p *listParams, v *appView) {
	if p == nil {
		qp, err := s.queryParams(r)
		if err != nil {
			s.fail(w, err, "users")
			return
		}
		p = &qp
	}
	resource := v.resource("User")
	q, from, err := s.query(*p, s.users, resource)
	if err == nil {
		err = v.checkUserQuery(&q)
	}
	if err != nil {
		s.fail(w, err, "users")
		return
	}
	proj, err := parseProjection(p.attributes, p.excludedAttributes, userSchema, []string{storage.EnterpriseSchema})
	if err != nil {
		s.fail(w, badParam("%v", err), "users")
		return
	}
	page, err := s.store.ListUsers(r.Context(), q)
	if err != nil {
		s.fail(w, storeQueryError(err), "users")
		return
	}
	head, err := s.head(p, resource, from, page.Total, len(page.Users), page.Bounds)
	if err != nil {
		s.fail(w, err, "users")
		return
	}
	base := s.baseURL(r)
	b, one, scratch := getBuffer(), getBuffer(), getBuffer()
	defer putBuffer(b)
	defer putBuffer(one)
	defer putBuffer(scratch)
	b.Grow(256 + len(page.Users)*1024)
	head.write(b)
	for i, d := range page.Users {
		if i > 0 {
			b.WriteByte(',')
		}
		if proj.empty() {
			err = v.appendViewUser(b, scratch, d, base)
		} else {
			err = s.appendProjectedViewUser(b, one, scratch, d, base, v, proj)
		}
		if err != nil {
			s.fail(w, err, "users")
			return
		}
	}
	b.WriteString("]}")
	writeBody(w, http.StatusOK, b.Bytes())
}

// appendProjectedViewUser renders d as the view shows it and then applies
// the request's projection, which can therefore only narrow the view.
func (s *Server) appendProjectedViewUser(b, one, scratch *bytes.Buffer, d storage.UserDoc, base string, v *appView, proj projection) error {
	one.Reset()
	if err := v.appendViewUser(one, scratch, d, base); err != nil {
		return err
	}
	out, err := proj.apply(one.Bytes())
	if err != nil {
		return err
	}
	b.Write(out)
	return nil
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
	if proj.empty() {
		err = v.appendViewUser(b, scratch, d, base)
	} else {
		err = s.appendProjectedViewUser(b, one, scratch, d, base, v, proj)
	}
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	writeResource(w, http.StatusOK, d.Meta.Version, base+"/Users/"+id, b.Bytes())
}
