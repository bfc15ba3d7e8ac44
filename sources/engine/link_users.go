package engine

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// lookupChunk bounds the keys and ids one store lookup carries.
const lookupChunk = 1000

// linkBatch decides, for each record of a linked source's batch, the
// person it belongs to (resolveLink) and gives it that person's id; the
// records' existing contributions are in existing, by key. Conflicts are
// recorded here; the records are written anyway, unlinked.
func (st *runState) linkBatch(ctx context.Context, batch []*mappedUser, existing map[string]storage.SyncedUser) error {
	var keys []storage.LinkKey
	ids := map[string]bool{}
	for _, m := range batch {
		keys = append(keys, m.linkKeys...)
		if ex, ok := existing[m.rec.Key]; ok {
			ids[ex.ID] = true
		}
	}
	holders, err := st.linkHolders(ctx, keys)
	if err != nil {
		return err
	}
	for _, hs := range holders {
		for _, h := range hs {
			ids[h.UserID] = true
		}
	}
	people, err := st.contributionsOf(ctx, ids)
	if err != nil {
		return err
	}
	source := st.job.Source.ID
	for _, m := range batch {
		c := linkCase{source: source, key: m.rec.Key, keys: m.linkKeys, holders: holders, people: people, inRun: st.linkKeysInRun}
		if ex, ok := existing[m.rec.Key]; ok {
			m.existing = &ex
			c.own = ownContribution(people[ex.ID], source, ex)
		}
		d := resolveLink(c)
		for _, why := range d.conflicts {
			st.run.Counts.Conflicts++
			st.change(storage.Change{Action: storage.ChangeConflict, Kind: sources.KindUser, ResourceID: d.userID,
				Key: m.rec.Key, Name: m.user.UserName, Detail: "not linked: " + why})
		}
		// A report that came first may have named a new person's id
		// already; if the record joins another person, finishManagers
		// points the report there.
		switch {
		case d.userID != "":
		case st.reserved[m.rec.Key] != "":
			d.userID = st.reserved[m.rec.Key]
		default:
			d.userID = newID()
		}
		m.link, m.user.ID = d, d.userID
		st.seenUsers[m.rec.Key] = d.userID
		for _, k := range m.linkKeys {
			if st.linkKeysInRun[k] == "" {
				st.linkKeysInRun[k] = m.rec.Key
			}
		}
		if m.existing == nil || m.existing.ID != d.userID {
			// The person now has this source's record: no other record of
			// the source joins it.
			people[d.userID] = append(people[d.userID], storage.ContributionRef{UserID: d.userID, Source: source, Key: m.rec.Key})
		}
	}
	return nil
}

// ownContribution finds a record's own contribution among its person's.
func ownContribution(refs []storage.ContributionRef, source string, ex storage.SyncedUser) *storage.ContributionRef {
	for i := range refs {
		if refs[i].Source == source && refs[i].Key == ex.Key {
			return &refs[i]
		}
	}
	return &storage.ContributionRef{UserID: ex.ID, Source: source, Key: ex.Key}
}

func (st *runState) linkHolders(ctx context.Context, keys []storage.LinkKey) (map[storage.LinkKey][]storage.LinkHolder, error) {
	out := map[storage.LinkKey][]storage.LinkHolder{}
	for start := 0; start < len(keys); start += lookupChunk {
		found, err := st.e.store.LinkHolders(ctx, keys[start:min(start+lookupChunk, len(keys))])
		if err != nil {
			return nil, fmt.Errorf("look up link keys: %w", err)
		}
		for k, hs := range found {
			out[k] = hs
		}
	}
	return out, nil
}

func (st *runState) contributionsOf(ctx context.Context, ids map[string]bool) (map[string][]storage.ContributionRef, error) {
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	out := map[string][]storage.ContributionRef{}
	for start := 0; start < len(list); start += lookupChunk {
		found, err := st.e.store.ContributionsOf(ctx, list[start:min(start+lookupChunk, len(list))])
		if err != nil {
			return nil, fmt.Errorf("look up people's contributions: %w", err)
		}
		for id, refs := range found {
			out[id] = refs
		}
	}
	return out, nil
}

// toContributionBatch is toBatch for a linked source.
func toContributionBatch(writes []*mappedUser) storage.ContributionBatch {
	var b storage.ContributionBatch
	for _, m := range writes {
		b.Upsert = append(b.Upsert, storage.ContributionWrite{
			UserWrite: storage.UserWrite{User: m.user, Key: m.rec.Key, Hash: m.hash},
			LinkKeys:  m.linkKeys, LinkedBy: m.link.linkedBy,
		})
	}
	return b
}
