package scim

import (
	"bytes"
	"net/http"

	escim "github.com/elimity-com/scim"

	"github.com/scimgate/scimgate/storage"
)

func (s *Server) fail(w http.ResponseWriter, err error, what string) {
	WriteError(w, toScimError(s.log, err, what))
}

// writeUser answers with one user and its ETag, projected per the request;
// a 201 also carries its Location.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, status int, u storage.User) {
	body, err := s.renderUser(r, u)
	if err != nil {
		s.fail(w, err, "user "+u.ID)
		return
	}
	writeResource(w, status, u.Meta.Version, s.baseURL(r)+"/Users/"+u.ID, body)
}

func (s *Server) renderUser(r *http.Request, u storage.User) ([]byte, error) {
	d, err := userDoc(u)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	appendUserDoc(&b, d, s.baseURL(r))
	proj, err := s.requestProjection(r, userSchema, []string{storage.EnterpriseSchema})
	if err != nil {
		return nil, err
	}
	return proj.apply(b.Bytes())
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, id string) {
	if v, divert := s.divertToView(w, r); divert {
		if v != nil {
			s.getViewUser(w, r, id, v)
		}
		return
	}
	u, err := s.store.GetUser(r.Context(), id)
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	if notModified(w, r, u.Meta.Version) {
		return
	}
	s.writeUser(w, r, http.StatusOK, u)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, id string) {
	caller, _ := callerFrom(r.Context())
	if err := s.store.DeleteUser(r.Context(), id, writeCheck(r, caller)); err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createUser stores a new user owned by the caller. active defaults to
// true.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, attrs map[string]any) {
	caller, _ := callerFrom(r.Context())
	u, err := checkedUser(attrs)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	if !hasKey(attrs, "active") {
		u.Active = true
	}
	u.ID = ""
	u.Owner = caller.Owner
	created, err := s.store.CreateUser(r.Context(), u)
	if err != nil {
		s.fail(w, err, "user "+u.UserName)
		return
	}
	s.writeUser(w, r, http.StatusCreated, created)
}

// replaceUser implements PUT (RFC 7644 §3.5.1): the stored user becomes
// what the client sent.
func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, id string, attrs map[string]any) {
	next, err := checkedUser(attrs)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	s.updateUser(w, r, id, func(storage.User) (storage.User, map[string]any, error) { return next, attrs, nil })
}

// patchUser applies the operations to the stored user.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string, ops []escim.PatchOperation) {
	s.updateUser(w, r, id, func(cur storage.User) (storage.User, map[string]any, error) {
		doc, err := userMap(cur)
		if err != nil {
			return storage.User{}, nil, err
		}
		if err := applyPatch(doc, ops, withExternalID(s.userType.Schema), extensionSchemas(s.userType)...); err != nil {
			return storage.User{}, nil, err
		}
		next, err := checkedUser(doc) // the result, so no PATCH grows a user past the limits
		return next, doc, err
	})
}

// updateUser replaces user id with what change makes of it, inside the
// store's transaction after the ownership and If-Match checks; any failure
// leaves the user as it was. doc is the document the new user came from:
// only an explicit boolean active in it changes active, so a PUT that does
// not mention active, or a PATCH that removes it or sets it to null
// (unassigned), neither deactivates nor reactivates anyone.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, id string, change func(cur storage.User) (next storage.User, doc map[string]any, err error)) {
	caller, _ := callerFrom(r.Context())
	check := writeCheck(r, caller)
	updated, err := s.store.UpdateUser(r.Context(), id, func(cur *storage.User) error {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return err
		}
		next, doc, err := change(*cur)
		if err != nil {
			return err
		}
		if !hasKey(doc, "active") {
			next.Active = cur.Active
		}
		*cur = next
		return nil
	})
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	s.writeUser(w, r, http.StatusOK, updated)
}

// checkedUser converts a user document after checking it against the
// limits, with its identifiers in NFC.
func checkedUser(doc map[string]any) (storage.User, error) {
	if err := checkResourceLimits(doc, userLimits); err != nil {
		return storage.User{}, err
	}
	u, err := toUser(doc)
	if err != nil {
		return storage.User{}, err
	}
	if err := normalizeUser(&u); err != nil {
		return storage.User{}, err
	}
	return u, nil
}
