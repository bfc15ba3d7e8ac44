package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/scimgate/scimgate/storage"
)

// removal is one object leaving the target: a user deactivated or
// deleted, a group scimgate created deleted.
type removal struct {
	kind   string
	po     storage.PushObject
	name   string
	action string // storage.ChangeDeactivate or storage.ChangeDelete
	// it is the user as the view still shows them (departed within the
	// leave grace); nil for objects no longer in the view.
	it *item
}

// removeLeavers is the last phase: what left the view leaves the target,
// unless it is more than the app's deletion limits allow.
func (p *push) removeLeavers(ctx context.Context) error {
	if len(p.removals) == 0 {
		return nil
	}
	todo := p.removals
	// Approved, even empty, is an admin's decision on the held list: no
	// guard again.
	if p.job.Approved != nil {
		approved := map[string]bool{}
		for _, a := range p.job.Approved {
			approved[a.Kind+"\x00"+a.ID] = true
		}
		todo = todo[:0:0]
		for _, r := range p.removals {
			if approved[r.kind+"\x00"+r.po.LocalID] {
				todo = append(todo, r)
			}
		}
		if n := len(p.removals) - len(todo); n > 0 {
			p.note(fmt.Sprintf("%d removals were not in the approved list; they wait for the next run", n))
		}
	} else {
		over, err := p.overLimits(ctx, len(todo))
		if err != nil {
			return err
		}
		if over {
			p.pending = make([]storage.PendingDeletion, len(todo))
			for i, r := range todo {
				p.pending[i] = storage.PendingDeletion{Kind: r.kind, ID: r.po.LocalID, Key: r.po.TargetID, Name: r.name, Action: r.action}
			}
			if !p.job.DryRun {
				p.held = true
				p.note(fmt.Sprintf("held: %d removals exceed the app's deletion limits", len(todo)))
				return nil
			}
			p.note(fmt.Sprintf("a real run would be held: %d removals exceed the app's deletion limits", len(todo)))
		}
	}
	var done []storage.PushObject
	for i, r := range todo {
		po, err := p.remove(ctx, r)
		if err != nil {
			return err
		}
		if po != nil {
			done = append(done, *po)
		}
		if len(done) >= p.e.opts.PageSize || i == len(todo)-1 {
			if err := p.save(ctx, done); err != nil {
				return err
			}
			done = done[:0]
		}
	}
	return nil
}

// collectOrphans adds the objects scimgate manages whose local resource
// left the view to the removals, and forgets those it must leave alone.
func (p *push) collectOrphans(ctx context.Context) error {
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		orphans, err := p.e.store.PushOrphans(ctx, p.app.ID, kind)
		if err != nil {
			return fmt.Errorf("read what left the view: %w", err)
		}
		var forget []string
		var leaving []storage.PushObject
		for _, o := range orphans {
			if o.TargetID == "" {
				// A create never confirmed, for something that has left
				// since: if it landed, it carries the scimgate id.
				found, err := p.findByLocalID(ctx, kind, o.LocalID)
				if err != nil {
					return err
				}
				if found == nil {
					forget = append(forget, o.LocalID)
					continue
				}
				o.TargetID, o.State = found.ID, storage.PushActive
			}
			switch {
			case kind == storage.MemberGroup && o.Origin != storage.PushCreated:
				// Claimed groups were the target's own: left alone.
				forget = append(forget, o.LocalID)
			default:
				leaving = append(leaving, o)
			}
		}
		if len(forget) > 0 && !p.job.DryRun {
			if err := p.e.store.DeletePushObjects(ctx, p.app.ID, kind, forget); err != nil {
				return fmt.Errorf("forget push objects: %w", err)
			}
		}
		names, err := p.localNames(ctx, kind, leaving)
		if err != nil {
			return err
		}
		for _, o := range leaving {
			if kind == storage.MemberUser && !p.full {
				p.touched = append(p.touched, o.LocalID)
			}
			action := storage.ChangeDelete
			if kind == storage.MemberUser && p.cfg.OnLeave != storage.OnLeaveDelete {
				action = storage.ChangeDeactivate
			}
			p.removals = append(p.removals, removal{kind: kind, po: o, name: names[o.LocalID], action: action})
		}
	}
	return nil
}

// findByLocalID looks for an object scimgate may have created with the
// default externalId (the scimgate id), where the target can filter on it.
func (p *push) findByLocalID(ctx context.Context, kind, localID string) (*Remote, error) {
	if !p.canFilter("externalId") {
		return nil, nil
	}
	found, err := p.t.Find(ctx, targetKind(kind), "externalId", localID)
	if err != nil {
		return nil, fmt.Errorf("find %s externalId %q in the target: %w", targetKind(kind), localID, err)
	}
	p.rec.Counts.Fetched += len(found)
	for i := range found {
		if found[i].ExternalID == localID {
			return &found[i], nil
		}
	}
	return nil, nil
}

// localNames finds the names of objects that left the view but still
// exist in the directory, for the change log and the pending list.
func (p *push) localNames(ctx context.Context, kind string, objs []storage.PushObject) (map[string]string, error) {
	out := map[string]string{}
	for len(objs) > 0 {
		n := min(len(objs), 200)
		ids := make([]string, n)
		for i, o := range objs[:n] {
			ids[i] = o.LocalID
		}
		q := storage.Query{Filter: storage.In{Attr: storage.AttrID, Values: ids}, Limit: n, NoTotal: true}
		if kind == storage.MemberUser {
			page, err := p.e.store.ListUsers(ctx, q)
			if err != nil {
				return nil, fmt.Errorf("read users: %w", err)
			}
			for _, d := range page.Users {
				var u struct {
					UserName string `json:"userName"`
				}
				if json.Unmarshal(d.JSON, &u) == nil {
					out[d.ID] = clip(u.UserName)
				}
			}
		} else {
			page, err := p.e.store.ListGroups(ctx, q, false)
			if err != nil {
				return nil, fmt.Errorf("read groups: %w", err)
			}
			for _, g := range page.Groups {
				out[g.ID] = clip(g.DisplayName)
			}
		}
		objs = objs[n:]
	}
	return out, nil
}

// overLimits applies the app's deletion guard to n removals.
func (p *push) overLimits(ctx context.Context, n int) (bool, error) {
	lim := p.cfg.Deletion
	if lim.MaxCount > 0 && n > lim.MaxCount {
		return true, nil
	}
	if lim.MaxPercent <= 0 {
		return false, nil
	}
	managed := 0
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		err := p.e.store.EachPushObject(ctx, p.app.ID, kind, func(o storage.PushObject) error {
			if o.TargetID != "" {
				managed++
			}
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("read push bookkeeping: %w", err)
		}
	}
	return managed > 0 && float64(n)*100/float64(managed) > lim.MaxPercent, nil
}

// remove applies one removal and returns the object to record (nil when
// it is forgotten or nothing changed).
func (p *push) remove(ctx context.Context, r removal) (*storage.PushObject, error) {
	tl := &tally{}
	defer p.merge(tl)
	po := r.po
	path := "/" + targetKind(r.kind) + "/" + po.TargetID
	if r.action == storage.ChangeDelete {
		if err := p.sendDelete(ctx, r.kind, po.TargetID); err != nil {
			po.Error = errorText(err)
			return &po, p.objectError(tl, err, r.kind, po.LocalID, po.TargetID, r.name)
		}
		if !p.job.DryRun {
			if err := p.e.store.DeletePushObjects(ctx, p.app.ID, r.kind, []string{po.LocalID}); err != nil {
				return nil, fmt.Errorf("forget push objects: %w", err)
			}
		}
		tl.counts.Deleted++
		tl.log(storage.Change{Action: storage.ChangeDelete, Kind: r.kind, ResourceID: po.LocalID, Key: po.TargetID, Name: r.name,
			Detail: p.detail(http.MethodDelete, path, http.StatusNoContent)})
		return nil, nil
	}
	method, sent, err := p.deactivate(ctx, tl, r)
	if te := (*TargetError)(nil); errors.As(err, &te) && te.Status == http.StatusNotFound {
		// The target has no such user any more: nothing left to deactivate.
		if !p.job.DryRun {
			if err := p.e.store.DeletePushObjects(ctx, p.app.ID, r.kind, []string{po.LocalID}); err != nil {
				return nil, fmt.Errorf("forget push objects: %w", err)
			}
		}
		p.vanished++
		return nil, nil
	}
	if err != nil {
		po.Error = errorText(err)
		return &po, p.objectError(tl, err, r.kind, po.LocalID, po.TargetID, r.name)
	}
	po.State, po.Error, po.Hash, po.Updated = storage.PushDeactivated, "", "", p.e.store.Now()
	if r.it != nil {
		po.Hash = r.it.hash
	}
	tl.counts.Deactivated++
	tl.log(storage.Change{Action: storage.ChangeDeactivate, Kind: r.kind, ResourceID: po.LocalID, Key: po.TargetID, Name: r.name,
		Detail: p.detail(method, path, http.StatusOK), After: sent})
	return &po, nil
}

// deactivate sets a user's active false in the target: a PATCH, or a PUT
// of the user as the view shows them (or as the target has them, for one
// no longer in the view) where the target has no PATCH.
func (p *push) deactivate(ctx context.Context, tl *tally, r removal) (method string, sent json.RawMessage, err error) {
	if p.caps.Patch {
		ops := []PatchOp{{Op: "replace", Path: "active", Value: false}}
		return http.MethodPatch, marshalOps(ops), p.sendPatch(ctx, r.kind, r.po.TargetID, ops)
	}
	var b body
	if r.it != nil {
		b = r.it.b
	} else {
		remote, err := p.t.Get(ctx, KindUsers, r.po.TargetID)
		if err != nil {
			return http.MethodPut, nil, err
		}
		tl.counts.Fetched++
		if b, err = decodeBody(remote.Raw); err != nil {
			return http.MethodPut, nil, fmt.Errorf("the target's user %s: %w", r.po.TargetID, err)
		}
		delete(b, "id")
		delete(b, "meta")
	}
	b["active"] = false
	if sent, err = b.encode(); err != nil {
		return http.MethodPut, nil, err
	}
	return http.MethodPut, sent, p.sendReplace(ctx, r.kind, r.po.TargetID, sent)
}

// noteUnmanaged reports what a full run found in the target that
// scimgate neither created nor claimed: it is never touched.
func (p *push) noteUnmanaged(ctx context.Context) error {
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		managed := map[string]bool{}
		err := p.e.store.EachPushObject(ctx, p.app.ID, kind, func(o storage.PushObject) error {
			managed[o.TargetID] = true
			return nil
		})
		if err != nil {
			return fmt.Errorf("read push bookkeeping: %w", err)
		}
		if p.job.DryRun {
			for _, id := range p.dryTargets {
				managed[id] = true
			}
		}
		n := 0
		for id := range p.remote.byID[kind] {
			if !managed[id] {
				n++
			}
		}
		if n > 0 {
			p.note(fmt.Sprintf("unmanaged: %d %s in the target were neither created nor claimed by scimgate and are left alone", n, targetKind(kind)))
		}
	}
	return nil
}
