package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/scimgate/scimgate/storage"
)

// pushGroups pushes the groups of the view after every user, so a
// group's members exist in the target before it names them: first every
// group itself, a page at a time, then their membership, so a group can
// name a nested group created on a later page.
func (p *push) pushGroups(ctx context.Context) error {
	touched, err := p.touchedGroups(ctx)
	if err != nil {
		return err
	}
	// pushed are the groups whose own push succeeded in this run, with
	// their hashes: their members go next. It grows with the groups
	// pushed, which are far fewer than the users.
	pushed := map[string]string{}
	var order []string
	for _, vq := range append(p.byIDs(touched), p.viewQueries(storage.MemberGroup)...) {
		q := vq.Query
		for {
			// Without PATCH, members travel in the group's PUT, so they are
			// read with it.
			page, err := p.e.store.ListGroups(ctx, q, !p.caps.Patch)
			if err != nil {
				return fmt.Errorf("read the view's groups: %w", err)
			}
			groups := page.Groups[:0:0]
			for _, g := range page.Groups {
				if !p.skip(storage.MemberGroup, g.ID) {
					groups = append(groups, g)
				}
			}
			done, err := p.pushGroupPage(ctx, groups)
			if err != nil {
				return err
			}
			for id, hash := range done {
				if _, seen := pushed[id]; !seen {
					order = append(order, id)
				}
				pushed[id] = hash
			}
			if !page.Bounds.More || len(page.Groups) == 0 {
				break
			}
			last := page.Bounds.Last
			q.After = &last
		}
	}
	if !p.caps.Patch {
		return nil
	}
	for _, vq := range p.byIDs(order) {
		page, err := p.e.store.ListGroups(ctx, vq.Query, true)
		if err != nil {
			return fmt.Errorf("read the view's groups: %w", err)
		}
		if err := p.pushMemberPage(ctx, page.Groups, pushed); err != nil {
			return err
		}
	}
	return nil
}

// touchedGroups are, for an incremental run, the groups scimgate manages
// that hold a user this run pushed or that left the view: their members
// in the target may have to change though the groups did not.
func (p *push) touchedGroups(ctx context.Context) ([]string, error) {
	if p.full || len(p.touched) == 0 {
		return nil, nil
	}
	found := map[string]bool{}
	for ids := p.touched; len(ids) > 0; {
		n := min(len(ids), 100)
		q := storage.Query{Filter: storage.ValuePath{Attr: storage.AttrMembers, Filter: storage.In{Attr: storage.SubValue, Values: ids[:n]}},
			Limit: p.e.opts.PageSize, NoTotal: true}
		for {
			page, err := p.e.store.ListGroups(ctx, q, false)
			if err != nil {
				return nil, fmt.Errorf("read the groups of changed users: %w", err)
			}
			for _, g := range page.Groups {
				found[g.ID] = true
			}
			if !page.Bounds.More || len(page.Groups) == 0 {
				break
			}
			last := page.Bounds.Last
			q.After = &last
		}
		ids = ids[n:]
	}
	managed, err := p.e.store.PushObjects(ctx, p.app.ID, storage.MemberGroup, sortedNames(found))
	if err != nil {
		return nil, fmt.Errorf("read push bookkeeping: %w", err)
	}
	return sortedNames(managed), nil
}

// groupMembers is a group's membership as the target must have it.
type groupMembers struct {
	targetIDs map[string]string // local id -> target id, of members to send or remove
	want      []string          // members in view that the target has
	diff      memberDiff
	waiting   int // members in view not (yet) in the target
}

// pushGroupPage pushes a page of groups themselves (with their members,
// for targets without PATCH) and returns those now in the target as this
// run has them, with their hashes.
func (p *push) pushGroupPage(ctx context.Context, groups []storage.Group) (map[string]string, error) {
	items := make([]item, 0, len(groups))
	for _, g := range groups {
		b, err := p.r.group(g)
		if err != nil {
			p.renderError(storage.MemberGroup, g.ID, err)
			continue
		}
		it, err := newItem(storage.MemberGroup, g.ID, b)
		if err != nil {
			return nil, fmt.Errorf("group %s: %w", g.ID, err)
		}
		if !p.caps.Patch {
			// Without PATCH a group's membership travels whole in its PUT
			// (which also overwrites what was edited in the target).
			m, err := p.groupMembers(ctx, g, "")
			if err != nil {
				return nil, err
			}
			if it.full, err = withMembers(b, m.want, m.targetIDs); err != nil {
				return nil, fmt.Errorf("group %s: %w", g.ID, err)
			}
			it.members, it.membersChanged = m.diff, !m.diff.empty()
		}
		items = append(items, it)
	}
	objs, err := p.pushItems(ctx, storage.MemberGroup, items)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, it := range items {
		po, ok := objs[it.id]
		// Not in the target, or its own update failed (its error stays on
		// it, for the retry): its members wait for the next run.
		if ok && po.TargetID != "" && po.State != storage.PushCreating && po.Hash == it.hash {
			out[it.id] = it.hash
		}
	}
	return out, nil
}

// pushMemberPage sends the membership changes of a page of groups whose
// own push succeeded (pushed: their hashes) and records on each what is
// still missing.
func (p *push) pushMemberPage(ctx context.Context, groups []storage.Group, pushed map[string]string) error {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	objs, err := p.e.store.PushObjects(ctx, p.app.ID, storage.MemberGroup, ids)
	if err != nil {
		return fmt.Errorf("read push bookkeeping: %w", err)
	}
	var after []storage.PushObject
	for _, g := range groups {
		po, ok := objs[g.ID]
		if p.job.DryRun {
			// Nothing was recorded: the run's own view of the group.
			po, ok = storage.PushObject{AppID: p.app.ID, Kind: storage.MemberGroup, LocalID: g.ID, TargetID: p.dryTarget(g.ID, po.TargetID)}, true
		}
		if _, wanted := pushed[g.ID]; !ok || !wanted || po.TargetID == "" {
			continue
		}
		m, err := p.groupMembers(ctx, g, po.TargetID)
		if err != nil {
			return err
		}
		errText, err := p.pushMembers(ctx, g, po, m)
		if err != nil {
			return err
		}
		if errText == "" && m.waiting > 0 {
			errText = fmt.Sprintf("%d members are not in the target yet", m.waiting)
		}
		if errText != po.Error {
			po.Error = errText
			after = append(after, po)
		}
	}
	return p.save(ctx, after)
}

// dryTarget is the target id a dry run works with for a group: the one
// it has, or the stand-in of the create it would send.
func (p *push) dryTarget(localID, have string) string {
	if have != "" {
		return have
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dryTargets[localID]
}

// groupMembers reads what g's membership must become in the target
// (targetID: the group's id there).
func (p *push) groupMembers(ctx context.Context, g storage.Group, targetID string) (groupMembers, error) {
	m := groupMembers{targetIDs: map[string]string{}}
	ids, err := p.targetIDs(ctx, g.Members)
	if err != nil {
		return m, err
	}
	for _, mem := range g.Members {
		if id, ok := ids[mem.Value]; ok {
			m.targetIDs[mem.Value] = id
			m.want = append(m.want, mem.Value)
		} else {
			m.waiting++
		}
	}
	pushed, err := p.e.store.PushedMembers(ctx, p.app.ID, g.ID)
	if err != nil {
		return m, fmt.Errorf("read the pushed members of group %s: %w", g.ID, err)
	}
	if actual, ok := p.actualMembers(targetID); ok {
		// A full run read what the target holds: that is the truth, so
		// membership edited in the target by hand is put right, and the
		// bookkeeping follows it first. Members scimgate does not manage
		// are left alone.
		if err := p.recordMembers(ctx, g.ID, diffMembers(actual, pushed)); err != nil {
			return m, err
		}
		pushed = actual
	}
	m.diff = diffMembers(m.want, pushed)
	if len(m.diff.remove) > 0 {
		gone := make([]storage.Member, len(m.diff.remove))
		for i, id := range m.diff.remove {
			gone[i] = storage.Member{Value: id}
		}
		removedIDs, err := p.targetIDs(ctx, gone)
		if err != nil {
			return m, err
		}
		for id, tid := range removedIDs {
			m.targetIDs[id] = tid
		}
	}
	return m, nil
}

// targetIDs maps members to their ids in the target, for those the
// target has; a member without a type is looked up as either kind.
func (p *push) targetIDs(ctx context.Context, members []storage.Member) (map[string]string, error) {
	byKind := map[string][]string{}
	for _, m := range members {
		switch m.Type {
		case storage.MemberUser, storage.MemberGroup:
			byKind[m.Type] = append(byKind[m.Type], m.Value)
		default:
			byKind[storage.MemberUser] = append(byKind[storage.MemberUser], m.Value)
			byKind[storage.MemberGroup] = append(byKind[storage.MemberGroup], m.Value)
		}
	}
	out := map[string]string{}
	for kind, ids := range byKind {
		for len(ids) > 0 {
			n := min(len(ids), 500)
			objs, err := p.e.store.PushObjects(ctx, p.app.ID, kind, ids[:n])
			if err != nil {
				return nil, fmt.Errorf("read push bookkeeping: %w", err)
			}
			for id, o := range objs {
				if o.TargetID != "" && o.State != storage.PushCreating {
					out[id] = o.TargetID
				}
			}
			ids = ids[n:]
		}
	}
	if p.job.DryRun {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range members {
			if id, ok := p.dryTargets[m.Value]; ok {
				out[m.Value] = id
			}
		}
	}
	return out, nil
}

// pushMembers sends g's membership changes in PATCHes bounded by the
// target's limit, recording each batch the target accepted. errText is
// the target's refusal, which stops the group's batches until next run.
func (p *push) pushMembers(ctx context.Context, g storage.Group, po storage.PushObject, m groupMembers) (errText string, err error) {
	if !p.caps.Patch || m.diff.empty() {
		return "", nil
	}
	tl := &tally{}
	defer p.merge(tl)
	// Removed members the target no longer has (deleted with their
	// object) need no request.
	var gone []string
	known := m.diff.remove[:0:0]
	for _, id := range m.diff.remove {
		if _, ok := m.targetIDs[id]; ok {
			known = append(known, id)
		} else {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 {
		if err := p.recordMembers(ctx, g.ID, memberDiff{remove: gone}); err != nil {
			return "", err
		}
	}
	path := "/" + KindGroups + "/" + po.TargetID
	name := clip(g.DisplayName)
	for _, batch := range memberBatches(memberDiff{add: m.diff.add, remove: known}, p.caps.MaxMembersPerPatch, m.targetIDs) {
		err := p.sendPatch(ctx, storage.MemberGroup, po.TargetID, batch.ops)
		if err != nil {
			return errorText(err), p.objectError(tl, err, storage.MemberGroup, g.ID, po.TargetID, name)
		}
		if err := p.recordMembers(ctx, g.ID, memberDiff{add: batch.add, remove: batch.remove}); err != nil {
			return "", err
		}
		if p.unchangedGroups[g.ID] {
			delete(p.unchangedGroups, g.ID)
			tl.counts.Unchanged--
			tl.counts.Updated++
		}
		tl.log(storage.Change{Action: storage.ChangeUpdate, Kind: storage.MemberGroup, ResourceID: g.ID, Key: po.TargetID, Name: name,
			Detail: p.detail(http.MethodPatch, path, http.StatusOK) + fmt.Sprintf(" (members: %d added, %d removed)", len(batch.add), len(batch.remove)),
			After:  marshalOps(batch.ops)})
	}
	return "", nil
}

// recordMembers records membership edits the target accepted.
func (p *push) recordMembers(ctx context.Context, groupID string, d memberDiff) error {
	if p.job.DryRun || d.empty() {
		return nil
	}
	if err := p.e.store.SetPushedMembers(ctx, p.app.ID, groupID, d.add, d.remove); err != nil {
		return fmt.Errorf("record the pushed members of group %s: %w", groupID, err)
	}
	return nil
}

// withMembers is a group's body with its whole membership, for a PUT.
func withMembers(b body, want []string, targetIDs map[string]string) (json.RawMessage, error) {
	full := make(body, len(b)+1)
	for k, v := range b {
		full[k] = v
	}
	values := make([]any, 0, len(want))
	for _, id := range want {
		values = append(values, map[string]any{"value": targetIDs[id]})
	}
	full["members"] = values
	return full.encode()
}
