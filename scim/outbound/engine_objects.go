package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/scimgate/scimgate/storage"
)

// item is one object of the view as this run pushes it.
type item struct {
	kind     string // storage.MemberUser or storage.MemberGroup
	id       string // local id
	name     string // userName or displayName
	b        body
	raw      json.RawMessage
	hash     string
	departed bool
	// full, when set, is what a create or a PUT sends instead of raw (a
	// group with its members, for targets without PATCH); membersChanged
	// makes such a group be PUT even when its own attributes are not.
	full           json.RawMessage
	membersChanged bool
	members        memberDiff // what full changes in the membership
}

func newItem(kind, id string, b body) (item, error) {
	raw, err := b.encode()
	if err != nil {
		return item{}, err
	}
	hash, err := hashBody(b)
	if err != nil {
		return item{}, err
	}
	name := b.str("userName")
	if kind == storage.MemberGroup {
		name = b.str("displayName")
	}
	return item{kind: kind, id: id, name: clip(name), b: b, raw: raw, hash: hash}, nil
}

// clip bounds a name in the change log.
func clip(s string) string {
	const max = storage.MaxUserNameChars
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// step is what one item needs: a create, or an update against what the
// target has (remote) or against the last pushed hash.
type step struct {
	it     item
	po     storage.PushObject
	create bool
	remote *Remote // set: diff against the target's document
	// reactivate: a deactivated user is back in view.
	reactivate bool
}

// pushItems pushes one page of view objects of one kind and commits
// their bookkeeping. It returns the objects as they stand after the page,
// by local id, for the membership phase.
func (p *push) pushItems(ctx context.Context, kind string, items []item) (map[string]storage.PushObject, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	objs, err := p.e.store.PushObjects(ctx, p.app.ID, kind, ids)
	if err != nil {
		return nil, fmt.Errorf("read push bookkeeping: %w", err)
	}
	var steps []step
	var creating []storage.PushObject
	planned := &tally{}
	for _, it := range items {
		st, ok, err := p.plan(ctx, planned, it, objs)
		if err != nil {
			p.merge(planned)
			return nil, err
		}
		if !ok {
			continue
		}
		if st.create {
			creating = append(creating, st.po)
		}
		steps = append(steps, st)
	}
	p.merge(planned)
	// A create's object is on record before its POST is sent, so a run
	// that dies after the POST looks it up before creating it again.
	if len(creating) > 0 && !p.job.DryRun {
		if err := p.e.store.SavePushObjects(ctx, creating); err != nil {
			return nil, fmt.Errorf("save push bookkeeping: %w", err)
		}
	}
	results, runErr := p.applyAll(ctx, steps)
	var done []storage.PushObject
	for _, r := range results {
		// Merged in step order, so the log reads the same however the
		// requests interleaved.
		p.merge(r.tally)
		if r.po != nil {
			objs[r.po.LocalID] = *r.po
			done = append(done, *r.po)
		}
		if r.err != nil && runErr == nil {
			runErr = r.err
		}
	}
	if err := p.save(ctx, done); err != nil && runErr == nil {
		runErr = err
	}
	return objs, runErr
}

// stepResult is what applying one step gave.
type stepResult struct {
	po    *storage.PushObject
	err   error
	tally *tally
}

// applyAll applies steps with up to Concurrency requests in flight: the
// objects of a page are independent of each other. After an error that
// fails the run, steps not yet started are not started (those in flight
// finish, so what they did is known), and that error is returned.
func (p *push) applyAll(ctx context.Context, steps []step) ([]stepResult, error) {
	results := make([]stepResult, len(steps))
	sem := make(chan struct{}, p.e.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for i := range steps {
		sem <- struct{}{}
		mu.Lock()
		stop := failed
		mu.Unlock()
		if stop != nil {
			<-sem
			results[i] = stepResult{tally: &tally{}}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tl := &tally{}
			po, err := p.apply(ctx, tl, steps[i])
			if err != nil {
				mu.Lock()
				if failed == nil {
					failed = err
				}
				mu.Unlock()
			}
			results[i] = stepResult{po: po, err: err, tally: tl}
		}()
	}
	wg.Wait()
	return results, failed
}

// plan decides what one item needs; ok false when nothing at all.
func (p *push) plan(ctx context.Context, tl *tally, it item, objs map[string]storage.PushObject) (st step, ok bool, err error) {
	po, known := objs[it.id]
	now := p.e.store.Now()
	if known && po.TargetID != "" {
		if it.departed {
			if po.State == storage.PushActive {
				// Leaving is a removal: it waits for the removal phase and
				// its guard. With onLeave delete it is deleted at once, leave
				// grace or not: a deactivated object is not looked at again.
				action := storage.ChangeDeactivate
				if p.cfg.OnLeave == storage.OnLeaveDelete {
					action = storage.ChangeDelete
				}
				p.removals = append(p.removals, removal{kind: it.kind, po: po, name: it.name, action: action, it: &it})
			} else {
				tl.counts.Unchanged++
			}
			return step{}, false, nil
		}
		st := step{it: it, po: po, reactivate: po.State == storage.PushDeactivated}
		if p.remote != nil {
			r := p.remote.byID[it.kind][po.TargetID]
			if r == nil {
				// The target lost it (someone deleted it there): create it anew.
				st.po = storage.PushObject{AppID: p.app.ID, Kind: it.kind, LocalID: it.id, Origin: storage.PushCreated, State: storage.PushCreating, Updated: now}
				st.create, st.reactivate = true, false
				return st, true, nil
			}
			st.remote = r
		}
		return st, true, nil
	}
	if it.departed {
		return step{}, false, nil // never provision someone who has left
	}
	var r *Remote
	if p.remote != nil || known {
		if r, err = p.find(ctx, tl, it.kind, it.b, false); err != nil {
			return step{}, false, err
		}
	}
	if r != nil {
		origin := storage.PushClaimed
		if known {
			origin = po.Origin // a create whose answer was lost: it is ours
		} else {
			tl.claimed++
		}
		st := step{it: it, remote: r, po: storage.PushObject{AppID: p.app.ID, Kind: it.kind, LocalID: it.id, TargetID: r.ID, Origin: origin, State: storage.PushActive, Updated: now}}
		return st, true, nil
	}
	origin := storage.PushCreated
	if known && po.Origin != "" {
		origin = po.Origin
	}
	return step{it: it, create: true, po: storage.PushObject{AppID: p.app.ID, Kind: it.kind, LocalID: it.id, Origin: origin, State: storage.PushCreating, Error: po.Error, Updated: now}}, true, nil
}

// apply sends what a step needs and returns the object to record (nil:
// nothing to record). Only errors that fail the run are returned.
func (p *push) apply(ctx context.Context, tl *tally, st step) (*storage.PushObject, error) {
	if st.create {
		return p.applyCreate(ctx, tl, st)
	}
	return p.applyUpdate(ctx, tl, st)
}

func (p *push) applyCreate(ctx context.Context, tl *tally, st step) (*storage.PushObject, error) {
	it, po := st.it, st.po
	sent := it.raw
	if it.full != nil {
		sent = it.full
	}
	path := "/" + targetKind(it.kind)
	r, err := p.sendCreate(ctx, it.kind, it.b, sent, it.id)
	if errors.Is(err, ErrOutcomeUnknown) {
		// The target may have applied it: look before creating again.
		found, ferr := p.find(ctx, tl, it.kind, it.b, true)
		if ferr != nil {
			return &po, ferr
		}
		if found != nil {
			r, err = *found, nil
		} else {
			r, err = p.sendCreate(ctx, it.kind, it.b, sent, it.id)
		}
	}
	var te *TargetError
	if errors.As(err, &te) && te.Status == http.StatusConflict {
		// Taken: the target holds it already (made by someone else, or by
		// a create of ours whose record was lost). Claim it by matching.
		found, ferr := p.find(ctx, tl, it.kind, it.b, true)
		if ferr != nil {
			return &po, ferr
		}
		// Only one that carries no externalId, or ours: one with another's
		// is some other object of the target (or of another local
		// object), never to be taken over.
		if found != nil && (found.ExternalID == "" || found.ExternalID == it.b.str("externalId")) {
			tl.claimed++
			po.TargetID, po.Origin, po.State = found.ID, storage.PushClaimed, storage.PushActive
			return p.applyUpdate(ctx, tl, step{it: it, po: po, remote: found})
		}
	}
	if err == nil && r.ID == "" {
		err = fmt.Errorf("%s %s: the target answered without the new object's id", http.MethodPost, path)
	}
	if err != nil {
		po.Error = errorText(err)
		return &po, p.objectError(tl, err, it.kind, it.id, "", it.name)
	}
	po.TargetID, po.State, po.Hash, po.Error, po.Updated = r.ID, storage.PushActive, it.hash, "", p.e.store.Now()
	tl.counts.Created++
	tl.log(storage.Change{Action: storage.ChangeCreate, Kind: it.kind, ResourceID: it.id, Key: r.ID, Name: it.name,
		Detail: p.detail(http.MethodPost, path, http.StatusCreated), After: sent})
	if it.kind == storage.MemberGroup && it.full != nil {
		if err := p.recordMembers(ctx, it.id, it.members); err != nil {
			return &po, err
		}
	}
	return &po, nil
}

func (p *push) applyUpdate(ctx context.Context, tl *tally, st step) (*storage.PushObject, error) {
	it, po := st.it, st.po
	var d diff
	var err error
	if st.remote != nil {
		d, err = diffRemote(st.remote.Raw, it.b, po.Hash)
	} else if po.Hash != it.hash || po.Error != "" {
		d, err = diffHash(po.Hash, it.b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", it.kind, it.id, err)
	}
	if d.empty() && !it.membersChanged {
		tl.counts.Unchanged++
		if it.kind == storage.MemberGroup {
			tl.unchangedGroups = append(tl.unchangedGroups, it.id)
		}
		if po.Hash == it.hash && po.State == storage.PushActive && po.Error == "" && st.remote == nil {
			return nil, nil
		}
		po.Hash, po.State, po.Error, po.Updated = it.hash, storage.PushActive, "", p.e.store.Now()
		return &po, nil
	}
	path := "/" + targetKind(it.kind) + "/" + po.TargetID
	var method string
	var sent json.RawMessage
	if p.caps.Patch && !(it.full != nil && it.membersChanged) {
		method = http.MethodPatch
		ops := patchOps(d, p.caps)
		sent = marshalOps(ops)
		err = p.sendPatch(ctx, it.kind, po.TargetID, ops)
	} else {
		method, sent = http.MethodPut, it.raw
		if it.full != nil {
			sent = it.full
		}
		err = p.sendReplace(ctx, it.kind, po.TargetID, sent)
	}
	var te *TargetError
	if errors.As(err, &te) && te.Status == http.StatusNotFound {
		// The target lost it: the next run creates it again (looking first).
		po.TargetID, po.State = "", storage.PushCreating
	}
	if err != nil {
		po.Error = errorText(err)
		return &po, p.objectError(tl, err, it.kind, it.id, po.TargetID, it.name)
	}
	action := storage.ChangeUpdate
	if st.reactivate {
		action = storage.ChangeReactivate
	}
	po.Hash, po.State, po.Error, po.Updated = it.hash, storage.PushActive, "", p.e.store.Now()
	tl.counts.Updated++
	tl.log(storage.Change{Action: action, Kind: it.kind, ResourceID: it.id, Key: po.TargetID, Name: it.name,
		Detail: p.detail(method, path, http.StatusOK), After: sent})
	if it.kind == storage.MemberGroup && it.full != nil && it.membersChanged {
		if err := p.recordMembers(ctx, it.id, it.members); err != nil {
			return &po, err
		}
	}
	return &po, nil
}

// renderError records an object the push mapping cannot render (a
// template yielding what its attribute cannot hold): nothing is sent for
// it, and the rest of the run goes on.
func (p *push) renderError(kind, id string, err error) {
	p.rec.Counts.Errors++
	p.logChange(storage.Change{Action: storage.ChangeError, Kind: kind, ResourceID: id, Detail: err.Error()})
}

// errorText is what an object's record keeps of a failed request.
func errorText(err error) string {
	if te := (*TargetError)(nil); errors.As(err, &te) {
		return targetErrorDetail(te)
	}
	return err.Error()
}
