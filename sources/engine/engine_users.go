package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// mappedUser is one incoming record on its way to the store.
type mappedUser struct {
	rec        sources.UserRecord
	user       storage.User
	managerKey string
	partial    []byte // hash input without the manager id
	hash       string
	existing   *storage.SyncedUser
	takeover   *storage.UserClaim // another owner's user this record takes over
	// A linked source's record: its link keys and where it goes.
	linkKeys []storage.LinkKey
	link     linkDecision
}

// preparedUser is the part of handling a user record that depends on the
// record and the job alone: scope, mapping and the hash input. The
// pipeline prepares a batch on the source's goroutine while the writer is
// busy with the batch before.
type preparedUser struct {
	inScope    bool
	user       storage.User
	managerKey string
	partial    []byte // hash input without the manager id
	linkKeys   []storage.LinkKey
	err        error // the mapping failed
}

// prepareUsers reads only st.job, which does not change during a run, so
// it may run beside the writer. It is the only reader of the records'
// Attrs (see userPreparer).
func (st *runState) prepareUsers(recs []sources.UserRecord) []preparedUser {
	out := make([]preparedUser, len(recs))
	for i, rec := range recs {
		if rec.Key == "" || !st.job.Scope.Includes(rec.Attrs) {
			continue
		}
		p := &out[i]
		p.inScope = true
		if p.user, p.managerKey, p.err = st.job.Mapping.MapUser(rec); p.err == nil {
			p.partial = append(mustJSON(p.user), p.managerKey...)
			if st.job.Linked {
				// The keys, and what the merge reads of the source, are
				// part of what the record is: a changed link, precedence or
				// authoritative setting rewrites every record (and so
				// recomputes every person) on the next full run.
				p.linkKeys = st.job.Link.keys(rec.Attrs)
				p.partial = append(p.partial, mustJSON(p.linkKeys)...)
				p.partial = append(p.partial, st.job.mergeSettings...)
			}
		}
	}
	return out
}

// writeUsers maps (unless prep has), compares and writes one batch of
// user records.
func (st *runState) writeUsers(ctx context.Context, recs []sources.UserRecord, prep []preparedUser) error {
	if prep == nil {
		prep = st.prepareUsers(recs)
	}
	batch := make([]*mappedUser, 0, len(recs))
	keys := make([]string, 0, len(recs))
	for i, rec := range recs {
		st.run.Counts.Fetched++
		if rec.Key == "" {
			st.run.Counts.Errors++
			st.problems++ // an unidentifiable record: cannot prove anything absent
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindUser, Detail: "a record without a stable id was skipped"})
			continue
		}
		if _, dup := st.seenUsers[rec.Key]; dup {
			st.run.Counts.Errors++
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindUser, Key: rec.Key, Detail: "the source sent this id twice; the second record was skipped"})
			continue
		}
		p := prep[i]
		if !p.inScope {
			continue // out of scope: treated as absent
		}
		if p.err != nil {
			// Seen, so never deleted for a mapping mistake; not written.
			st.seenUsers[rec.Key] = ""
			st.run.Counts.Errors++
			st.change(storage.Change{Action: storage.ChangeError, Kind: sources.KindUser, Key: rec.Key, Detail: p.err.Error()})
			continue
		}
		m := &mappedUser{rec: rec, user: p.user, managerKey: p.managerKey, partial: p.partial, linkKeys: p.linkKeys}
		st.seenUsers[rec.Key] = ""
		batch = append(batch, m)
		keys = append(keys, rec.Key)
	}
	if len(batch) == 0 {
		return st.progress(ctx)
	}
	existing, err := st.e.store.SyncedUsers(ctx, st.owner, keys)
	if err != nil {
		return fmt.Errorf("look up users: %w", err)
	}
	if st.job.Linked {
		err = st.linkBatch(ctx, batch, existing)
	} else {
		st.nameUsers(batch, existing)
	}
	if err != nil {
		return err
	}
	if err := st.resolveManagers(ctx, batch); err != nil {
		return err
	}
	var writes []*mappedUser
	for _, m := range batch {
		if m.existing != nil && m.existing.Hash == m.hash && m.existing.DeactivatedAt.IsZero() && m.existing.ID == m.user.ID {
			st.run.Counts.Unchanged++
			st.namesInRun[storage.FoldKey(m.user.UserName)] = m.user.ID
			continue
		}
		writes = append(writes, m)
	}
	writes, err = st.checkClaims(ctx, writes)
	if err != nil {
		return err
	}
	if err := st.applyUsers(ctx, writes); err != nil {
		return err
	}
	return st.progress(ctx)
}

// nameUsers gives each record of a plain source its user's id: the one it
// has, the one a report named it by, or a new one.
func (st *runState) nameUsers(batch []*mappedUser, existing map[string]storage.SyncedUser) {
	for _, m := range batch {
		if ex, ok := existing[m.rec.Key]; ok {
			m.existing = &ex
			m.user.ID = ex.ID
		} else if id, ok := st.reserved[m.rec.Key]; ok {
			m.user.ID = id // already named by a report that came first
		} else {
			m.user.ID = newID()
		}
		st.seenUsers[m.rec.Key] = m.user.ID
	}
}

// resolveManagers turns manager keys into ids and computes each record's
// hash. A manager not seen yet and not in the store is given its id now
// (the engine names new users itself), so the report is written once,
// complete; finishReferences corrects the few references whose manager
// never arrived or got another id.
func (st *runState) resolveManagers(ctx context.Context, batch []*mappedUser) error {
	var lookup []string
	for _, m := range batch {
		if m.managerKey != "" && st.seenUsers[m.managerKey] == "" && st.reserved[m.managerKey] == "" {
			lookup = append(lookup, m.managerKey)
		}
	}
	var found map[string]storage.SyncedUser
	if len(lookup) > 0 {
		var err error
		if found, err = st.e.store.SyncedUsers(ctx, st.owner, lookup); err != nil {
			return fmt.Errorf("look up managers: %w", err)
		}
	}
	for _, m := range batch {
		managerID := ""
		if m.managerKey != "" {
			managerID = st.seenUsers[m.managerKey]
			if managerID == "" {
				managerID = found[m.managerKey].ID
			}
			if managerID == "" {
				if without := hashOf(m.partial, nil); m.existing != nil && m.existing.Hash == without && m.existing.DeactivatedAt.IsZero() {
					// Unchanged, and its manager was missing last time too:
					// nothing to write unless the manager turns up later.
					st.refsTo[m.managerKey] = append(st.refsTo[m.managerKey], managerRef{userID: m.user.ID, partial: m.partial})
					m.hash = without
					continue
				}
				managerID = st.reserved[m.managerKey]
				if managerID == "" {
					managerID = newID()
					st.reserved[m.managerKey] = managerID
				}
				st.refsTo[m.managerKey] = append(st.refsTo[m.managerKey], managerRef{userID: m.user.ID, partial: m.partial, written: true})
			}
			ent := m.user.Enterprise
			if ent == nil {
				ent = &storage.EnterpriseExt{}
				m.user.Enterprise = ent
			}
			ent.Manager = &storage.ManagerRef{Value: managerID}
		}
		m.hash = hashOf(m.partial, []byte(managerID))
	}
	return nil
}

// checkClaims settles userName collisions: with another record of this
// run, with another of this source's users, or with another owner, where
// precedence decides. Losers are recorded as conflicts and not written.
func (st *runState) checkClaims(ctx context.Context, writes []*mappedUser) ([]*mappedUser, error) {
	var names []string
	for _, m := range writes {
		if m.existing == nil || m.existing.ID != m.user.ID || !strings.EqualFold(m.existing.UserName, m.user.UserName) {
			names = append(names, m.user.UserName)
		}
	}
	claims := map[string]storage.UserClaim{}
	if len(names) > 0 {
		var err error
		if claims, err = st.e.store.ClaimsByUserName(ctx, names); err != nil {
			return nil, fmt.Errorf("look up userNames: %w", err)
		}
	}
	kept := writes[:0]
	for _, m := range writes {
		if p := storage.IdentifierProblem(m.user.UserName, storage.MaxUserNameChars); p != "" {
			st.conflict(m, "userName "+p) // SCIM clients could not use it either
			continue
		}
		if p := storage.UserLimitProblem(&m.user); p != "" {
			st.conflict(m, p) // nor store it
			continue
		}
		lower := storage.FoldKey(m.user.UserName)
		if other, ok := st.namesInRun[lower]; ok && other != m.user.ID {
			st.conflict(m, "another record of this source already has this userName")
			continue
		}
		if c, ok := claims[lower]; ok && c.ID != m.user.ID {
			switch {
			case st.job.Linked && m.existing != nil && c.ID == m.existing.ID:
				// Its person until now holds it: the record leaves it.
			case st.job.Linked:
				st.conflict(m, "userName is held by another person") // never taken over
				continue
			case c.Owner == st.owner:
				st.conflict(m, "another user of this source already has this userName")
				continue
			case m.existing == nil && st.wins(c.Owner):
				m.takeover = &c
			default:
				st.conflict(m, fmt.Sprintf("userName is held by %s, which has precedence", c.Owner))
				continue
			}
		}
		st.namesInRun[lower] = m.user.ID
		kept = append(kept, m)
	}
	return kept, nil
}

// wins reports whether this source beats owner for a userName: a lower
// precedence number wins; ties and unknown owners keep what they hold.
func (st *runState) wins(owner string) bool {
	if st.job.Precedence == nil {
		return false
	}
	p, ok := st.job.Precedence(owner)
	return ok && st.job.Source.Precedence < p
}

func (st *runState) conflict(m *mappedUser, why string) {
	st.run.Counts.Conflicts++
	id := ""
	if m.existing != nil {
		id = m.existing.ID
	} else {
		st.seenUsers[m.rec.Key] = "" // nothing of ours to resolve to
	}
	st.change(storage.Change{Action: storage.ChangeConflict, Kind: sources.KindUser, ResourceID: id, Key: m.rec.Key, Name: m.user.UserName, Detail: why})
}

// applyUsers writes creates and updates in one transaction, which also
// stores the run's counts as they are with the batch written. If a
// concurrent writer took a userName meanwhile, the batch is retried one
// user at a time so only the colliding users become conflicts.
func (st *runState) applyUsers(ctx context.Context, writes []*mappedUser) error {
	if len(writes) == 0 {
		return nil
	}
	before := st.beforeImages(ctx, writes)
	// written logs what a committed transaction wrote and takes its counts.
	written := func(ws []*mappedUser, after storage.RunCounts) {
		for _, m := range ws {
			st.recordUserChange(m, before[m.user.ID])
		}
		st.committedAt(after)
	}
	return writeOrSplit(st, writes, batchWrite[*mappedUser]{
		kind:  "users",
		count: countUserWrites,
		apply: func(ws []*mappedUser, after storage.RunCounts) error {
			if st.job.Linked {
				b := toContributionBatch(ws)
				b.Progress = st.progressAt(after)
				_, err := st.e.store.ApplyContributions(ctx, st.job.Source.ID, b)
				return err
			}
			return st.e.store.ApplyUsers(ctx, st.owner, st.userBatch(ws, after))
		},
		conflict: func(m *mappedUser) { st.conflict(m, "userName was taken by another writer during the run") },
		written:  written,
		what:     func(m *mappedUser) string { return "user " + m.rec.Key },
	})
}

// userBatch is the batch that writes writes and stores counts with them.
func (st *runState) userBatch(writes []*mappedUser, counts storage.RunCounts) storage.UserBatch {
	b := toBatch(writes)
	b.Progress = st.progressAt(counts)
	return b
}

// countUserWrites returns c with writes counted as written.
func countUserWrites(c storage.RunCounts, writes []*mappedUser) storage.RunCounts {
	for _, m := range writes {
		switch {
		case m.link.action == storage.ChangeLink:
			c.Linked++
		case m.link.action == storage.ChangeUnlink:
			c.Unlinked++
		case m.takeover != nil:
			c.Updated++
			c.Conflicts++
		case m.existing == nil:
			c.Created++
		default:
			c.Updated++
		}
	}
	return c
}

// beforeImages reads the current documents of users about to change, for
// the change log, while it has room.
func (st *runState) beforeImages(ctx context.Context, writes []*mappedUser) map[string][]byte {
	out := map[string][]byte{}
	room := st.e.changeLogCap - st.changeSeq
	for _, m := range writes {
		if len(out) >= room {
			break
		}
		id := ""
		switch {
		case m.takeover != nil:
			id = m.takeover.ID
		case m.existing != nil:
			id = m.existing.ID
		default:
			continue
		}
		if u, err := st.e.store.GetUser(ctx, id); err == nil {
			out[m.user.ID] = mustJSON(u)
		}
	}
	return out
}

func toBatch(writes []*mappedUser) storage.UserBatch {
	var b storage.UserBatch
	for _, m := range writes {
		w := storage.UserWrite{User: m.user, Key: m.rec.Key, Hash: m.hash}
		switch {
		case m.takeover != nil:
			w.User.ID = m.takeover.ID
			b.Update = append(b.Update, w)
		case m.existing == nil:
			b.Create = append(b.Create, w)
		default:
			b.Update = append(b.Update, w)
		}
	}
	return b
}

func (st *runState) recordUserChange(m *mappedUser, before []byte) {
	c := storage.Change{Kind: sources.KindUser, ResourceID: m.user.ID, Key: m.rec.Key, Name: m.user.UserName, Before: before}
	switch {
	case m.takeover != nil:
		st.seenUsers[m.rec.Key] = m.takeover.ID
		st.renamed[m.user.ID] = m.takeover.ID
		c.Action, c.ResourceID = storage.ChangeUpdate, m.takeover.ID
		c.Detail = "taken over from " + m.takeover.Owner + " by precedence"
	case m.link.action != "":
		c.Action, c.Detail = m.link.action, m.link.detail
	case m.existing == nil:
		c.Action = storage.ChangeCreate
	case !m.existing.DeactivatedAt.IsZero() && m.user.Active:
		c.Action = storage.ChangeReactivate
	default:
		c.Action = storage.ChangeUpdate
	}
	if !st.logFull() {
		c.After = mustJSON(m.user)
		st.change(c)
	}
}
