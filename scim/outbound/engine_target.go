package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// remoteIndex is what a full run read from the target: every user and
// group by id, and those not yet managed by the attributes that match
// them.
type remoteIndex struct {
	byID map[string]map[string]*Remote // kind -> id -> remote
	// byKey: kind -> "attr\x00value" -> remotes not managed by scimgate.
	byKey map[string]map[string]*Remote
	// localOf maps the target ids of the objects scimgate manages, users
	// and groups, to their local ids; an id that both a user and a group
	// have in the target (per-type numbering) is in ambiguous instead.
	localOf   map[string]string
	ambiguous map[string]bool
}

// matchAttrs are the attributes that claim an object, in order.
func (p *push) matchAttrs(kind string) []string {
	if kind == storage.MemberGroup {
		return []string{"displayName", "externalId"}
	}
	if len(p.cfg.Match) > 0 {
		return p.cfg.Match
	}
	return []string{"userName", "externalId"}
}

// matchKey is the key of one match attribute's value; userName and
// displayName are case-insensitive (RFC 7643 §4.1.1, §4.2), externalId
// is case-exact.
func matchKey(attr, value string) string {
	if attr != "externalId" {
		value = strings.ToLower(value)
	}
	return attr + "\x00" + value
}

func remoteValue(r *Remote, attr string) string {
	switch attr {
	case "userName":
		return r.UserName
	case "displayName":
		return r.DisplayName
	case "externalId":
		return r.ExternalID
	}
	return ""
}

func bodyValue(b body, attr string) string { return b.str(attr) }

// readTarget lists the target's users and groups, for a full run.
func (p *push) readTarget(ctx context.Context) (*remoteIndex, error) {
	idx := &remoteIndex{byID: map[string]map[string]*Remote{}, byKey: map[string]map[string]*Remote{},
		localOf: map[string]string{}, ambiguous: map[string]bool{}}
	managed := map[string]map[string]bool{}
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		ids := map[string]bool{}
		err := p.e.store.EachPushObject(ctx, p.app.ID, kind, func(o storage.PushObject) error {
			if o.TargetID != "" {
				ids[o.TargetID] = true
				if _, taken := idx.localOf[o.TargetID]; taken && kind == storage.MemberGroup {
					idx.ambiguous[o.TargetID] = true
				}
				idx.localOf[o.TargetID] = o.LocalID
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read push bookkeeping: %w", err)
		}
		managed[kind] = ids
		byID, byKey := map[string]*Remote{}, map[string]*Remote{}
		err = p.t.List(ctx, targetKind(kind), func(page []Remote) error {
			for i := range page {
				// A copy: the Target may reuse its page.
				rc := page[i]
				r := &rc
				p.rec.Counts.Fetched++
				byID[r.ID] = r
				if ids[r.ID] {
					continue
				}
				for _, attr := range p.matchAttrs(kind) {
					if v := remoteValue(r, attr); v != "" {
						k := matchKey(attr, v)
						if _, taken := byKey[k]; !taken {
							byKey[k] = r
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list the target's %s: %w", targetKind(kind), err)
		}
		idx.byID[kind], idx.byKey[kind] = byID, byKey
	}
	return idx, nil
}

func targetKind(kind string) string {
	if kind == storage.MemberGroup {
		return KindGroups
	}
	return KindUsers
}

// claim finds the unmanaged target object b matches in a full run's
// index and takes it out, so no other object claims it too.
func (idx *remoteIndex) claim(kind string, attrs []string, b body) *Remote {
	keys := idx.byKey[kind]
	for _, attr := range attrs {
		v := bodyValue(b, attr)
		if v == "" {
			continue
		}
		if r := keys[matchKey(attr, v)]; r != nil {
			for _, a := range attrs {
				if rv := remoteValue(r, a); rv != "" {
					delete(keys, matchKey(a, rv))
				}
			}
			return r
		}
	}
	return nil
}

// find looks b up in the target by its match attributes: for a create
// whose answer was lost, or an object a create found taken. A full run
// looks in what it read unless fresh (what it created since is not
// there); others ask the target.
func (p *push) find(ctx context.Context, tl *tally, kind string, b body, fresh bool) (*Remote, error) {
	attrs := p.matchAttrs(kind)
	if p.remote != nil && !fresh {
		return p.remote.claim(kind, attrs, b), nil
	}
	for _, attr := range attrs {
		v := bodyValue(b, attr)
		if v == "" {
			continue
		}
		var found []Remote
		if p.canFilter(attr) {
			var err error
			found, err = p.t.Find(ctx, targetKind(kind), attr, v)
			if err != nil {
				return nil, fmt.Errorf("find %s %s %q in the target: %w", targetKind(kind), attr, v, err)
			}
		} else {
			// No filter on attr: page through the target instead (rare: a
			// lost answer on a target that cannot filter).
			err := p.t.List(ctx, targetKind(kind), func(page []Remote) error {
				found = append(found, page...)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("list the target's %s: %w", targetKind(kind), err)
			}
		}
		tl.counts.Fetched += len(found)
		key := matchKey(attr, v)
		for i := range found {
			if matchKey(attr, remoteValue(&found[i], attr)) == key {
				return &found[i], nil
			}
		}
	}
	return nil, nil
}

func (p *push) canFilter(attr string) bool {
	return p.caps.Filter && (len(p.caps.FilterAttrs) == 0 || slices.ContainsFunc(p.caps.FilterAttrs, func(a string) bool { return strings.EqualFold(a, attr) }))
}

// The requests that change the target. In a dry run they are not sent:
// each returns as if it had worked, and the caller logs it as it would.

func (p *push) sendCreate(ctx context.Context, kind string, b body, raw json.RawMessage, localID string) (Remote, error) {
	if p.job.DryRun {
		id := "dry-run:" + localID
		p.mu.Lock()
		p.dryTargets[localID] = id
		p.mu.Unlock()
		return Remote{ID: id}, nil
	}
	return p.t.Create(ctx, targetKind(kind), raw)
}

func (p *push) sendPatch(ctx context.Context, kind, id string, ops []PatchOp) error {
	if p.job.DryRun {
		return nil
	}
	return p.t.Patch(ctx, targetKind(kind), id, ops)
}

func (p *push) sendReplace(ctx context.Context, kind, id string, raw json.RawMessage) error {
	if p.job.DryRun {
		return nil
	}
	_, err := p.t.Replace(ctx, targetKind(kind), id, raw)
	return err
}

func (p *push) sendDelete(ctx context.Context, kind, id string) error {
	if p.job.DryRun {
		return nil
	}
	err := p.t.Delete(ctx, targetKind(kind), id)
	if te := (*TargetError)(nil); errors.As(err, &te) && te.Status == http.StatusNotFound {
		return nil // gone already: what a delete wants
	}
	return err
}

// detail is the change log's word on a request: what was sent and, for
// one that was, its status.
func (p *push) detail(method, path string, status int) string {
	if p.job.DryRun {
		return method + " " + path
	}
	return fmt.Sprintf("%s %s: HTTP %d", method, path, status)
}

// targetErrorDetail is a target's answer as the change log and the push
// object record it.
func targetErrorDetail(te *TargetError) string {
	s := fmt.Sprintf("HTTP %d", te.Status)
	if te.SCIMType != "" {
		s += " " + te.SCIMType
	}
	if te.Detail != "" {
		s += ": " + te.Detail
	}
	return s
}

// objectError records a target's refusal of one object; any other error
// is returned, to fail the run.
func (p *push) objectError(tl *tally, err error, kind, localID, targetID, name string) error {
	var te *TargetError
	// Throttling that outlasted the client's waits is about the target,
	// not the object: going on would only be throttled again.
	if !errors.As(err, &te) || te.Status == http.StatusTooManyRequests {
		return err
	}
	tl.counts.Errors++
	tl.log(storage.Change{Action: storage.ChangeError, Kind: kind, ResourceID: localID, Key: targetID, Name: name,
		Detail: te.Method + " " + te.Path + ": " + targetErrorDetail(te)})
	return nil
}

func marshalOps(ops []PatchOp) json.RawMessage {
	raw, err := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops})
	if err != nil {
		return nil
	}
	return raw
}

// actualMembers returns the local ids of the members scimgate manages
// that the target's group targetID holds, as a full run read them, and
// whether they are known: not for a group this run created, a target
// that hides members, or a member id that names a user and a group alike.
func (p *push) actualMembers(targetID string) ([]string, bool) {
	if p.remote == nil || p.caps.GroupMembersHidden {
		return nil, false
	}
	r, ok := p.remote.byID[storage.MemberGroup][targetID]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(r.Members))
	for _, tid := range r.Members {
		if p.remote.ambiguous[tid] {
			return nil, false
		}
		if local, ok := p.remote.localOf[tid]; ok {
			out = append(out, local)
		}
	}
	return out, true
}
