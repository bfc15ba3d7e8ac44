package scim

import (
	"bytes"
	"net/http"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/storage"
)

// userHandler is the library's callback for /Users writes; it renders the
// response itself (see viaLibrary).
type userHandler struct{ s *Server }

var _ escim.ResourceHandler = (*userHandler)(nil)

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

// Create stores a new user owned by the caller. active defaults to true.
func (h *userHandler) Create(r *http.Request, attrs escim.ResourceAttributes) (escim.Resource, error) {
	s := h.s
	caller, _ := callerFrom(r.Context())
	u, err := checkedUser(attrs)
	if err != nil {
		return escim.Resource{}, err
	}
	if !hasKey(attrs, "active") {
		u.Active = true
	}
	u.ID = ""
	u.Owner = caller.Owner
	created, err := s.store.CreateUser(r.Context(), u)
	if err != nil {
		return escim.Resource{}, toScimError(s.log, err, "user "+u.UserName)
	}
	return h.done(r, http.StatusCreated, created)
}

func (h *userHandler) done(r *http.Request, status int, u storage.User) (escim.Resource, error) {
	resp, err := h.s.userResponse(r, status, u)
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "user "+u.ID)
	}
	respond(r, resp)
	return placeholder, nil
}

// Replace implements PUT (RFC 7644 §3.5.1): the stored user becomes what
// the client sent. active, when not sent, keeps its value: a PUT that does
// not mention active must not deactivate anyone.
func (h *userHandler) Replace(r *http.Request, id string, attrs escim.ResourceAttributes) (escim.Resource, error) {
	s := h.s
	caller, _ := callerFrom(r.Context())
	next, err := checkedUser(attrs)
	if err != nil {
		return escim.Resource{}, err
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
		return escim.Resource{}, toScimError(s.log, err, "user "+id)
	}
	return h.done(r, http.StatusOK, updated)
}

// Patch applies the operations to the stored user inside the store's
// transaction; any failure leaves the user as it was.
func (h *userHandler) Patch(r *http.Request, id string, ops []escim.PatchOperation) (escim.Resource, error) {
	s := h.s
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
		if err := applyPatch(doc, ops, withExternalID(s.userType.Schema), s.userType.SchemaExtensions[0].Schema); err != nil {
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
		return escim.Resource{}, toScimError(s.log, err, "user "+id)
	}
	return h.done(r, http.StatusOK, updated)
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

// Get, GetAll and Delete are served by Server directly; the library never
// routes to them, but the interface wants them.
func (h *userHandler) Get(r *http.Request, id string) (escim.Resource, error) {
	return escim.Resource{}, errNotRouted
}
func (h *userHandler) GetAll(r *http.Request, _ escim.ListRequestParams) (escim.Page, error) {
	return escim.Page{}, errNotRouted
}
func (h *userHandler) Delete(r *http.Request, id string) error { return errNotRouted }

var errNotRouted = scimerr.ScimError{Status: http.StatusNotFound, Detail: "not routed"}
