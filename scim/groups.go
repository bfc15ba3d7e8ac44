package scim

import (
	"bytes"
	"net/http"
	"strings"

	escim "github.com/elimity-com/scim"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

// writeGroup answers with one group (members only when withMembers) and
// its ETag, projected per the request; a 201 also carries its Location.
func (s *Server) writeGroup(w http.ResponseWriter, r *http.Request, status int, g storage.Group, withMembers bool) {
	var b bytes.Buffer
	appendGroup(&b, g, s.baseURL(r), withMembers)
	proj, err := s.requestProjection(r, groupSchema, nil)
	if err == nil {
		var body []byte
		if body, err = proj.apply(b.Bytes()); err == nil {
			writeResource(w, status, g.Meta.Version, s.baseURL(r)+"/Groups/"+g.ID, body)
			return
		}
	}
	s.fail(w, err, "group "+g.ID)
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, id string) {
	if v, divert := s.divertToView(w, r); divert {
		if v != nil {
			s.getViewGroup(w, r, id, v)
		}
		return
	}
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
	if notModified(w, r, g.Meta.Version) {
		return
	}
	s.writeGroup(w, r, http.StatusOK, g, withMembers)
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, id string) {
	caller, _ := callerFrom(r.Context())
	if err := s.store.DeleteGroup(r.Context(), id, writeCheck(r, caller)); err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// createGroup stores a new group and its members, owned by the caller.
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, attrs map[string]any) {
	caller, _ := callerFrom(r.Context())
	g, err := checkedGroup(attrs)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	g.Owner = caller.Owner
	created, err := s.store.CreateGroup(r.Context(), g)
	if err != nil {
		s.fail(w, err, "group "+g.DisplayName)
		return
	}
	s.writeGroup(w, r, http.StatusCreated, created, true)
}

// replaceGroup implements PUT: attributes and the whole member list.
func (s *Server) replaceGroup(w http.ResponseWriter, r *http.Request, id string, attrs map[string]any) {
	caller, _ := callerFrom(r.Context())
	next, err := checkedGroup(attrs)
	if err != nil {
		s.fail(w, err, "request")
		return
	}
	check := writeCheck(r, caller)
	updated, err := s.store.UpdateGroup(r.Context(), id, false, func(cur *storage.Group) (storage.MemberChange, error) {
		if err := check(cur.Owner, cur.Meta); err != nil {
			return storage.MemberChange{}, err
		}
		cur.DisplayName, cur.ExternalID = next.DisplayName, next.ExternalID
		return storage.MemberChange{RemoveAll: true, Add: next.Members}, nil
	})
	if err != nil {
		s.fail(w, err, "group "+id)
		return
	}
	s.writeReloaded(w, r, updated)
}

// patchGroup applies membership operations as row edits (adding one
// member to a large group writes one row) and everything else to the group
// document. It answers 204 unless the client asked for attributes, so
// large groups are not sent back on every membership change.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, id string, ops []escim.PatchOperation) {
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
		s.fail(w, err, "group "+id)
		return
	}
	if r.URL.Query().Get("attributes") == "" && r.URL.Query().Get("excludedAttributes") == "" {
		w.Header().Set("ETag", etag(updated.Meta.Version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.writeReloaded(w, r, updated)
}

// writeReloaded answers a write with the group as stored. UpdateGroup
// returns no members, so they are read here, and only when the response
// shows them.
func (s *Server) writeReloaded(w http.ResponseWriter, r *http.Request, updated storage.Group) {
	proj, err := s.requestProjection(r, groupSchema, nil)
	if err != nil {
		s.fail(w, err, "group "+updated.ID)
		return
	}
	withMembers := !proj.excludes("members")
	if withMembers {
		id := updated.ID
		if updated, err = s.store.GetGroup(r.Context(), id, true); err != nil {
			s.fail(w, err, "group "+id)
			return
		}
	}
	s.writeGroup(w, r, http.StatusOK, updated, withMembers)
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
