package scim

import (
	"bytes"
	"net/http"
	"strings"

	escim "github.com/elimity-com/scim"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

type groupHandler struct{ s *Server }

var _ escim.ResourceHandler = (*groupHandler)(nil)

func (s *Server) groupResponse(r *http.Request, status int, g storage.Group, withMembers bool) (response, error) {
	var b bytes.Buffer
	appendGroup(&b, g, s.baseURL(r), withMembers)
	proj, err := s.requestProjection(r, groupSchema, nil)
	if err != nil {
		return response{}, err
	}
	body, err := proj.apply(b.Bytes())
	if err != nil {
		return response{}, err
	}
	h := http.Header{}
	h.Set("ETag", etag(g.Meta.Version))
	if status == http.StatusCreated {
		h.Set("Location", s.baseURL(r)+"/Groups/"+g.ID)
	}
	return response{status: status, header: h, body: body}, nil
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, id string) {
	proj, err := s.requestProjection(r, groupSchema, nil)
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	withMembers := !proj.excludes("members")
	g, err := s.store.GetGroup(r.Context(), id, withMembers)
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, g.Meta.Version) {
		w.Header().Set("ETag", etag(g.Meta.Version))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	resp, err := s.groupResponse(r, http.StatusOK, g, withMembers)
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	resp.write(w)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, id string) {
	caller, _ := callerFrom(r.Context())
	if err := s.store.DeleteGroup(r.Context(), id, writeCheck(r, caller)); err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *groupHandler) done(r *http.Request, status int, g storage.Group) (escim.Resource, error) {
	resp, err := h.s.groupResponse(r, status, g, true)
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "group "+g.ID)
	}
	respond(r, resp)
	return placeholder, nil
}

// Create stores a new group and its members, owned by the caller.
func (h *groupHandler) Create(r *http.Request, attrs escim.ResourceAttributes) (escim.Resource, error) {
	caller, _ := callerFrom(r.Context())
	g, err := checkedGroup(attrs)
	if err != nil {
		return escim.Resource{}, err
	}
	g.Owner = caller.Owner
	created, err := h.s.store.CreateGroup(r.Context(), g)
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "group "+g.DisplayName)
	}
	return h.done(r, http.StatusCreated, created)
}

// Replace implements PUT: attributes and the whole member list.
func (h *groupHandler) Replace(r *http.Request, id string, attrs escim.ResourceAttributes) (escim.Resource, error) {
	caller, _ := callerFrom(r.Context())
	next, err := checkedGroup(attrs)
	if err != nil {
		return escim.Resource{}, err
	}
	check := writeCheck(r, caller)
	updated, err := h.s.store.UpdateGroup(r.Context(), id, false, func(cur *storage.Group) (storage.MemberChange, error) {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return storage.MemberChange{}, err
		}
		cur.DisplayName, cur.ExternalID = next.DisplayName, next.ExternalID
		return storage.MemberChange{RemoveAll: true, Add: next.Members}, nil
	})
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "group "+id)
	}
	return h.doneReloaded(r, updated)
}

// Patch applies membership operations as row edits (adding one member to a
// large group writes one row) and everything else to the group document.
// It answers 204 unless the client asked for attributes, so large groups
// are not sent back on every membership change.
func (h *groupHandler) Patch(r *http.Request, id string, ops []escim.PatchOperation) (escim.Resource, error) {
	s := h.s
	caller, _ := callerFrom(r.Context())
	check := writeCheck(r, caller)
	needMembers := false
	for _, op := range ops {
		if isMembersOp(op) && op.Path != nil && op.Path.ValueExpression != nil && memberIDsFromFilter(op.Path.ValueExpression) == nil {
			needMembers = true
		}
	}
	updated, err := s.store.UpdateGroup(r.Context(), id, needMembers, func(cur *storage.Group) (storage.MemberChange, error) {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return storage.MemberChange{}, err
		}
		change, err := applyGroupPatch(cur, ops, s.groupType)
		if err != nil {
			return change, err
		}
		// Checked on the result, so no PATCH grows a group past the limits.
		return change, normalizeGroup(cur)
	})
	if err != nil {
		return escim.Resource{}, toScimError(s.log, err, "group "+id)
	}
	if r.URL.Query().Get("attributes") == "" && r.URL.Query().Get("excludedAttributes") == "" {
		h2 := http.Header{}
		h2.Set("ETag", etag(updated.Meta.Version))
		respond(r, response{status: http.StatusNoContent, header: h2})
		return placeholder, nil
	}
	return h.doneReloaded(r, updated)
}

// doneReloaded answers a write with the group as stored. UpdateGroup
// returns no members, so they are read here, and only when the response
// shows them.
func (h *groupHandler) doneReloaded(r *http.Request, updated storage.Group) (escim.Resource, error) {
	proj, err := h.s.requestProjection(r, groupSchema, nil)
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "group "+updated.ID)
	}
	withMembers := !proj.excludes("members")
	if withMembers {
		id := updated.ID
		if updated, err = h.s.store.GetGroup(r.Context(), id, true); err != nil {
			return escim.Resource{}, toScimError(h.s.log, err, "group "+id)
		}
	}
	resp, err := h.s.groupResponse(r, http.StatusOK, updated, withMembers)
	if err != nil {
		return escim.Resource{}, toScimError(h.s.log, err, "group "+updated.ID)
	}
	respond(r, resp)
	return placeholder, nil
}

func isMembersOp(op escim.PatchOperation) bool {
	if op.Path == nil {
		return false
	}
	return strings.EqualFold(op.Path.AttributePath.AttributeName, "members")
}

// memberIDsFromFilter returns the ids of a filter made only of
// `value eq "id"` joined by or, and nil for any other filter.
func memberIDsFromFilter(e fp.Expression) []string {
	switch e := e.(type) {
	case *fp.AttributeExpression:
		if strings.EqualFold(e.AttributePath.AttributeName, "value") && e.AttributePath.SubAttribute == nil &&
			strings.EqualFold(string(e.Operator), "eq") {
			if s, ok := e.CompareValue.(string); ok {
				return []string{s}
			}
		}
	case *fp.LogicalExpression:
		if strings.EqualFold(string(e.Operator), "or") {
			l, r := memberIDsFromFilter(e.Left), memberIDsFromFilter(e.Right)
			if l != nil && r != nil {
				return append(l, r...)
			}
		}
	}
	return nil
}

func (h *groupHandler) Get(r *http.Request, id string) (escim.Resource, error) {
	return escim.Resource{}, errNotRouted
}
func (h *groupHandler) GetAll(r *http.Request, _ escim.ListRequestParams) (escim.Page, error) {
	return escim.Page{}, errNotRouted
}
func (h *groupHandler) Delete(r *http.Request, id string) error { return errNotRouted }

// checkedGroup converts a group document after checking it against the
// limits (members are bounded by the group size), with its identifiers in
// NFC.
func checkedGroup(doc map[string]any) (storage.Group, error) {
	if err := checkResourceLimits(doc, groupLimits); err != nil {
		return storage.Group{}, err
	}
	g, err := toGroup(doc)
	if err != nil {
		return storage.Group{}, err
	}
	if err := normalizeGroup(&g); err != nil {
		return storage.Group{}, err
	}
	return g, nil
}
