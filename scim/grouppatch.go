package scim

import (
	"net/http"
	"strings"

	escim "github.com/elimity-com/scim"
	scimerr "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

// memberEdits accumulates membership operations in request order; adds and
// removes are kept disjoint so the store can apply them in any order.
// Every edit is O(1): a member added and then removed in the same request
// leaves a tombstone (an empty Value) in add, dropped when the change is
// built, so a PATCH of many operations stays linear.
type memberEdits struct {
	removeAll bool
	add       []storage.Member
	addIdx    map[string]int
	remove    map[string]bool
}

func newMemberEdits() *memberEdits {
	return &memberEdits{addIdx: map[string]int{}, remove: map[string]bool{}}
}

func (e *memberEdits) addMember(m storage.Member) {
	delete(e.remove, m.Value)
	if i, ok := e.addIdx[m.Value]; ok {
		e.add[i] = m
		return
	}
	e.addIdx[m.Value] = len(e.add)
	e.add = append(e.add, m)
}

func (e *memberEdits) removeMember(id string) {
	if i, ok := e.addIdx[id]; ok {
		e.add[i] = storage.Member{} // tombstone
		delete(e.addIdx, id)
	}
	if !e.removeAll {
		e.remove[id] = true
	}
}

func (e *memberEdits) clear() {
	e.removeAll = true
	e.add, e.addIdx, e.remove = nil, map[string]int{}, map[string]bool{}
}

// added returns the members added, in order, without tombstones.
func (e *memberEdits) added() []storage.Member {
	out := make([]storage.Member, 0, len(e.addIdx))
	for _, m := range e.add {
		if m.Value != "" {
			out = append(out, m)
		}
	}
	return out
}

func (e *memberEdits) change() storage.MemberChange {
	c := storage.MemberChange{RemoveAll: e.removeAll}
	if added := e.added(); len(added) > 0 {
		c.Add = added
	}
	for id := range e.remove {
		c.Remove = append(c.Remove, id)
	}
	return c
}

// current returns the member list as it stands after the edits so far,
// given the loaded members.
func (e *memberEdits) current(loaded []storage.Member) []storage.Member {
	var out []storage.Member
	if !e.removeAll {
		for _, m := range loaded {
			if !e.remove[m.Value] {
				if _, re := e.addIdx[m.Value]; !re {
					out = append(out, m)
				}
			}
		}
	}
	return append(out, e.added()...)
}

// applyGroupPatch applies ops to g's own attributes and turns membership
// operations into row edits.
func applyGroupPatch(g *storage.Group, ops []escim.PatchOperation, rt escim.ResourceType) (storage.MemberChange, error) {
	doc := map[string]any{"displayName": g.DisplayName}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	edits := newMemberEdits()
	patchSchema := withExternalID(rt.Schema)
	for _, op := range ops {
		if op.Path == nil {
			value, _ := op.Value.(map[string]any)
			rest := map[string]any{}
			for k, v := range value {
				if strings.EqualFold(k, "members") {
					if err := membersOp(edits, g, op.Op, nil, v, rt); err != nil {
						return storage.MemberChange{}, err
					}
					continue
				}
				rest[k] = v
			}
			if len(rest) > 0 {
				if err := applyPatch(doc, []escim.PatchOperation{{Op: op.Op, Value: rest}}, patchSchema); err != nil {
					return storage.MemberChange{}, err
				}
			}
			continue
		}
		if isMembersOp(op) {
			if err := membersOp(edits, g, op.Op, op.Path, op.Value, rt); err != nil {
				return storage.MemberChange{}, err
			}
			continue
		}
		if err := applyPatch(doc, []escim.PatchOperation{op}, patchSchema); err != nil {
			return storage.MemberChange{}, err
		}
	}
	name, _ := doc["displayName"].(string)
	if strings.TrimSpace(name) == "" {
		return storage.MemberChange{}, invalidValue("displayName is required and cannot be removed")
	}
	g.DisplayName = name
	g.ExternalID, _ = doc["externalId"].(string)
	return edits.change(), nil
}

// membersOp applies one operation on the members attribute.
func membersOp(edits *memberEdits, g *storage.Group, op string, path *fp.Path, value any, rt escim.ResourceType) error {
	if path != nil && path.SubAttribute != nil {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidPath, "member sub-attributes cannot be patched; add or remove whole members")
	}
	var filterExpr fp.Expression
	if path != nil {
		filterExpr = path.ValueExpression
	}
	switch op {
	case escim.PatchOperationAdd, escim.PatchOperationReplace:
		if filterExpr != nil {
			return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidPath, "use add or remove on members, not a filtered "+op)
		}
		ms, err := toMembers(value)
		if err != nil {
			return err
		}
		if op == escim.PatchOperationReplace {
			edits.clear()
		}
		for _, m := range ms {
			edits.addMember(m)
		}
		return nil
	case escim.PatchOperationRemove:
		switch {
		case filterExpr != nil:
			if ids := memberIDsFromFilter(filterExpr); ids != nil {
				for _, id := range ids {
					edits.removeMember(id)
				}
				return nil
			}
			v := filter.NewFilterValidator(filterExpr, schema.Schema{Attributes: membersSubAttributes(rt)})
			for _, m := range edits.current(g.Members) {
				el := map[string]any{"value": m.Value, "type": m.Type}
				if m.Display != "" {
					el["display"] = m.Display
				}
				if v.PassesFilter(el) == nil {
					edits.removeMember(m.Value)
				}
			}
			return nil
		case value != nil:
			// Entra: {"op":"remove","path":"members","value":[{"value":"id"}]}
			ms, err := toMembers(value)
			if err != nil {
				return err
			}
			for _, m := range ms {
				edits.removeMember(m.Value)
			}
			return nil
		default:
			edits.clear()
			return nil
		}
	}
	return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, "unknown PATCH op "+op)
}

func membersSubAttributes(rt escim.ResourceType) schema.Attributes {
	for _, a := range rt.Schema.Attributes {
		if strings.EqualFold(a.Name(), "members") {
			return a.SubAttributes()
		}
	}
	return nil
}

// withExternalID adds the common externalId attribute to a core schema, as
// the library does when it validates bodies.
func withExternalID(s schema.Schema) schema.Schema {
	out := s
	out.Attributes = append(append(schema.Attributes{}, s.Attributes...), schema.SimpleCoreAttribute(
		schema.SimpleStringParams(schema.StringParams{
			CaseExact: true, Name: "externalId",
			Mutability: schema.AttributeMutabilityReadWrite(), Uniqueness: schema.AttributeUniquenessNone(),
		})))
	return out
}
