package scim

import (
	"bytes"
	"net/http"

	escim "github.com/elimity-com/scim"

	"github.com/scimgate/scimgate/storage"
)

// userResponse renders one user with its ETag, projected per the request.
func (s *Server) userResponse(r *http.Request, status int, u storage.User) (response, error) {
	d, err := userDoc(u)
	if err != nil {
		return response{}, err
	}
	var b bytes.Buffer
	appendUserDoc(&b, d, s.baseURL(r))
	proj, perr := s.requestProjection(r, userSchema, []string{storage.EnterpriseSchema})
	if perr != nil {
		return response{}, perr
	}
	body, err := proj.apply(b.Bytes())
	if err != nil {
		return response{}, err
	}
	h := http.Header{}
	h.Set("ETag", etag(u.Meta.Version))
	if status == http.StatusCreated {
		h.Set("Location", s.baseURL(r)+"/Users/"+u.ID)
	}
	return response{status: status, header: h, body: body}, nil
}

func (s *Server) fail(w http.ResponseWriter, err error, what string) {
	WriteError(w, toScimError(s.log, err, what))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, id string) {
	u, err := s.store.GetUser(r.Context(), id)
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, u.Meta.Version) {
		w.Header().Set("ETag", etag(u.Meta.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	resp, err := s.userResponse(r, http.StatusOK, u)
	if err != nil {
		s.fail(w, err, "user "+id)
		return
	}
	resp.write(w)
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

// writeUser answers a write with the user as stored.
func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, status int, u storage.User) {
	resp, err := s.userResponse(r, status, u)
	if err != nil {
		s.fail(w, err, "user "+u.ID)
		return
	}
	resp.write(w)
}

// replaceUser implements PUT (RFC 7644 §3.5.1): the stored user becomes
// what the client sent. active, when not sent, keeps its value: a PUT that
// does not mention active must not deactivate anyone.
func (s *Server) replaceUser(w http.ResponseWriter, r *http.Request, id string, attrs map[string]any) {
	caller, _ := callerFrom(r.Context())
	next, err := checkedUser(attrs)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	check := writeCheck(r, caller)
	updated, err := s.store.UpdateUser(r.Context(), id, func(cur *storage.User) error {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return err
		}
		if !hasKey(attrs, "active") {
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

// patchUser applies the operations to the stored user inside the store's
// transaction; any failure leaves the user as it was.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string, ops []escim.PatchOperation) {
	caller, _ := callerFrom(r.Context())
	check := writeCheck(r, caller)
	updated, err := s.store.UpdateUser(r.Context(), id, func(cur *storage.User) error {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return err
		}
		doc, err := userMap(*cur)
		if err != nil {
			return err
		}
		if err := applyPatch(doc, ops, withExternalID(s.userType.Schema), extensionSchemas(s.userType)...); err != nil {
			return err
		}
		next, err := checkedUser(doc) // the result, so no PATCH grows a user past the limits
		if err != nil {
			return err
		}
		if !hasKey(doc, "active") {
			// As with PUT: only an explicit boolean changes active, so an
			// active removed or replaced with null (unassigned) neither
			// deactivates nor reactivates anyone.
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
