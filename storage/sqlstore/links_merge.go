package sqlstore

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/scimgate/scimgate/storage"
)

// peopleChange is what a LinkStore write did to people: whom it touched,
// and which contributions moved from one person to another.
type peopleChange struct {
	people map[string]bool
	moves  []personMove
	// regrouped are the people a source began or stopped contributing
	// to: an application scoped by sources may see them come or go even
	// when their merged document stays the same.
	regrouped map[string]bool
	// records are the records this write has in hand, decoded.
	records map[contributionKey]*storage.User
}

// contributionKey names a contribution.
type contributionKey struct{ source, key string }

// personMove is a contribution of source moving from one person to
// another.
type personMove struct{ source, from, to string }

func newPeopleChange() *peopleChange {
	return &peopleChange{people: map[string]bool{}, regrouped: map[string]bool{}, records: map[contributionKey]*storage.User{}}
}

// contributed records that a contribution arrived at or left people.
func (p *peopleChange) contributed(ids ...string) {
	p.touch(ids...)
	for _, id := range ids {
		p.regrouped[id] = true
	}
}

func (p *peopleChange) touch(ids ...string) {
	for _, id := range ids {
		p.people[id] = true
	}
}

func (p *peopleChange) moved(source, from, to string) {
	p.contributed(from, to)
	p.moves = append(p.moves, personMove{source: source, from: from, to: to})
}

// mergeRow is a contribution as the merge reads it.
type mergeRow struct {
	source, key string
	record      string
	deactivated sql.NullInt64
}

// recomputePeople makes every person p touched what its contributions now
// say (storage.MergeUser), in the users table through the writers plain
// syncs use, so views, stamps and pushes follow. A person left with
// nothing is deleted; when a contribution moved off it, its references
// (memberships, managers) first move to the person that contribution
// joined. A contribution that moved off a person that stays takes along
// only its own source's group memberships. Only a merged document (owner
// and active included) that differs from the stored one is written.
func recomputePeople(tx *txn, p *peopleChange, now time.Time, res *storage.ContributionResult) error {
	ids := slices.Sorted(maps.Keys(p.people))
	byPerson, err := loadMergeRows(tx.orm, ids)
	if err != nil {
		return err
	}
	emptied := map[string]bool{}
	for _, id := range ids {
		if len(byPerson[id]) == 0 {
			emptied[id] = true
		}
	}
	joined := map[string]string{}
	for _, m := range p.moves {
		switch {
		case !emptied[m.from]:
			if err := moveMemberships(tx, m.from, m.to, ownerOf(m.source), now); err != nil {
				return err
			}
		case !emptied[m.to] && joined[m.from] == "":
			joined[m.from] = m.to
		}
	}
	rewritten := false
	for _, from := range slices.Sorted(maps.Keys(joined)) {
		more, err := mergeReferences(tx, p, from, joined[from], now)
		if err != nil {
			return err
		}
		rewritten = rewritten || more
	}
	if rewritten {
		// Records changed: read every merged person anew.
		ids = slices.Sorted(maps.Keys(p.people))
		if byPerson, err = loadMergeRows(tx.orm, ids); err != nil {
			return err
		}
	}
	gone := slices.Sorted(maps.Keys(emptied))
	if err := deleteSyncedUsers(tx, "", gone, now); err != nil {
		return err
	}
	res.Deleted = append(res.Deleted, gone...)
	return writePeople(tx, ids, byPerson, emptied, p, now, res.Changed)
}

// loadMergeRows reads the contributions of people, by person.
func loadMergeRows(db *gorm.DB, people []string) (map[string][]mergeRow, error) {
	out := make(map[string][]mergeRow, len(people))
	err := chunks(people, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(`SELECT user_id, source_id, source_key, record, deactivated_at FROM contributions
			WHERE user_id IN ? ORDER BY user_id, source_id, source_key`, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var person string
			var r mergeRow
			if err := rows.Scan(&person, &r.source, &r.key, &r.record, &r.deactivated); err != nil {
				return translate(err)
			}
			out[person] = append(out[person], r)
			return nil
		})
	})
	return out, err
}

// mergeSource is what the merge needs of a contributing source.
type mergeSource struct {
	precedence    int
	authoritative []string
}

// loadMergeSources reads the precedence and authoritative list of the
// sources; a source that is gone is absent.
func loadMergeSources(db *gorm.DB, ids []string) (map[string]mergeSource, error) {
	out := make(map[string]mergeSource, len(ids))
	err := chunks(ids, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(`SELECT id, precedence, authoritative FROM sources WHERE id IN ?`, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var id, auth string
			var ms mergeSource
			if err := rows.Scan(&id, &ms.precedence, &auth); err != nil {
				return translate(err)
			}
			var list []string
			if err := fromJSONText("authoritative attributes", auth, &list); err != nil {
				return fmt.Errorf("source %s: %w", id, err)
			}
			for _, a := range list {
				if c := storage.CanonicalMergeAttribute(a); c != "" {
					ms.authoritative = append(ms.authoritative, c)
				}
			}
			out[id] = ms
			return nil
		})
	})
	return out, err
}

// mergePerson merges one person's contributions; sources has every
// source there is among them (a contribution of a deleted source comes
// after all others). It returns the merged user, owned by the source that
// gave its userName, and where each attribute came from.
func mergePerson(rows []mergeRow, sources map[string]mergeSource, known map[contributionKey]*storage.User) (storage.User, map[string]string, error) {
	in := make([]storage.MergeInput, len(rows))
	for i, r := range rows {
		u := known[contributionKey{r.source, r.key}]
		if u == nil {
			u = &storage.User{}
			if err := json.Unmarshal([]byte(r.record), u); err != nil {
				return storage.User{}, nil, fmt.Errorf("decode contribution %s of source %s: %w", r.key, r.source, err)
			}
		}
		ms, ok := sources[r.source]
		if !ok {
			ms.precedence = math.MaxInt
		}
		in[i] = storage.MergeInput{Source: r.source, Precedence: ms.precedence, Authoritative: ms.authoritative,
			Record: u, Deactivated: r.deactivated.Valid}
	}
	merged, from := storage.MergeUser(in)
	owner := from["userName"]
	if owner == "" { // no record has one: the first in merge order owns it
		first := slices.MinFunc(in, func(a, b storage.MergeInput) int {
			return cmp.Or(cmp.Compare(a.Precedence, b.Precedence), cmp.Compare(a.Source, b.Source))
		})
		owner = first.Source
	}
	merged.Owner = ownerOf(owner)
	return merged, from, nil
}

// writePeople merges each of ids that has contributions and writes those
// whose document or owner changed: updates before creates, after the
// deletions, so a userName a deleted or renamed person freed can be taken.
func writePeople(tx *txn, ids []string, byPerson map[string][]mergeRow, emptied map[string]bool, p *peopleChange,
	now time.Time, changed map[string]bool) error {
	var live []string
	sourceSet := map[string]bool{}
	for _, id := range ids {
		if emptied[id] || len(byPerson[id]) == 0 {
			continue
		}
		live = append(live, id)
		for _, r := range byPerson[id] {
			sourceSet[r.source] = true
		}
	}
	if len(live) == 0 {
		return nil
	}
	sources, err := loadMergeSources(tx.orm, slices.Sorted(maps.Keys(sourceSet)))
	if err != nil {
		return err
	}
	stored, err := storedPeople(tx, live)
	if err != nil {
		return err
	}
	var updates, creates []syncedWrite
	var inactive []string
	names := map[string]string{} // person -> merged userName, of those written
	for _, id := range live {
		u, _, err := mergePerson(byPerson[id], sources, p.records)
		if err != nil {
			return err
		}
		u.ID = id
		doc, err := json.Marshal(&u)
		if err != nil {
			return fmt.Errorf("encode user %s: %w", id, err)
		}
		old, exists := stored[id]
		if exists && old.doc == string(doc) && old.owner == u.Owner {
			if p.regrouped[id] {
				tx.touchChanged(id) // for views scoped by source
			}
			continue
		}
		meta := storage.Meta{LastModified: now}
		if !exists {
			meta = storage.Meta{Created: now, LastModified: now, Version: 1}
		}
		u.Meta = meta
		r, err := toUserRow(&u)
		if err != nil {
			return err
		}
		w := syncedWrite{row: r, key: nil, hash: "", active: u.Active, id: id}
		if exists {
			updates = append(updates, w)
		} else {
			creates = append(creates, w)
		}
		if allDeactivated(byPerson[id]) {
			inactive = append(inactive, id)
		}
		changed[id] = true
		names[id] = u.UserName
	}
	if err := checkUserNames(tx, names); err != nil {
		return err
	}
	if err := updateSyncedUsers(tx, updates); err != nil {
		return userNameTaken(err)
	}
	if err := createSyncedUsers(tx, creates); err != nil {
		return userNameTaken(err)
	}
	// A person whose every contribution left is deactivated as a plain
	// sync deactivates a user: grace periods count from then.
	return chunks(inactive, keyChunk, func(chunk []string) error {
		return tx.exec("UPDATE users SET deactivated_at = COALESCE(deactivated_at, ?) WHERE id IN ?", millis(now), chunk)
	})
}

func allDeactivated(rows []mergeRow) bool {
	for _, r := range rows {
		if !r.deactivated.Valid {
			return false
		}
	}
	return true
}

// checkUserNames fails with ErrConflict, naming the userName and both
// users, when a person would take a userName another user holds (or
// another person of the same write takes), before any row is written.
func checkUserNames(tx *txn, names map[string]string) error {
	byName := make(map[string]string, len(names))
	for _, id := range slices.Sorted(maps.Keys(names)) {
		folded := foldKey(names[id])
		if other, ok := byName[folded]; ok {
			return fmt.Errorf("people %s and %s would both have the userName %q: %w", other, id, names[id], storage.ErrConflict)
		}
		byName[folded] = id
	}
	return chunks(slices.Sorted(maps.Keys(byName)), keyChunk, func(chunk []string) error {
		rows, err := tx.orm.Raw("SELECT user_name, id FROM users WHERE user_name IN ?", chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var name, holder string
			if err := rows.Scan(&name, &holder); err != nil {
				return translate(err)
			}
			person := byName[name]
			if _, rewritten := names[holder]; holder != person && !rewritten {
				return fmt.Errorf("the userName %q of person %s is held by user %s: %w", names[person], person, holder, storage.ErrConflict)
			}
			return nil
		})
	})
}

// userNameTaken says what a conflict while writing people means.
func userNameTaken(err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("a merged userName is held by another user: %w", err)
	}
	return err
}

// storedPerson is a users row as the merge compares it.
type storedPerson struct{ owner, doc string }

func storedPeople(tx *txn, ids []string) (map[string]storedPerson, error) {
	out := make(map[string]storedPerson, len(ids))
	err := chunks(ids, keyChunk, func(chunk []string) error {
		rows, err := tx.orm.Raw("SELECT id, owner, doc FROM users WHERE id IN ?", chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var id string
			var p storedPerson
			if err := rows.Scan(&id, &p.owner, &p.doc); err != nil {
				return translate(err)
			}
			out[id] = p
			return nil
		})
	})
	return out, err
}

// moveMemberships moves from's memberships to to: in the groups owner
// holds, or in every group when owner is "". A group that already has to
// keeps one row. The groups get a new version.
func moveMemberships(tx *txn, from, to, owner string, now time.Time) error {
	q, args := "SELECT group_id FROM group_members WHERE member_id = ?", []any{from}
	if owner != "" {
		q, args = q+" AND group_id IN (SELECT id FROM groups WHERE owner = ?)", append(args, owner)
	}
	var groups []string
	if err := tx.orm.Raw(q, args...).Scan(&groups).Error; err != nil {
		return translate(err)
	}
	if len(groups) == 0 {
		return nil
	}
	scoped, err := tx.scopedGroups(groups)
	if err != nil {
		return err
	}
	if len(scoped) > 0 {
		if err := tx.touchBelow(from); err != nil {
			return err
		}
	}
	if err := tx.touchGroups(groups...); err != nil {
		return err
	}
	err = chunks(groups, keyChunk, func(chunk []string) error {
		if err := tx.exec(`UPDATE groups SET version = version + 1, last_modified = ? WHERE id IN ?`, millis(now), chunk); err != nil {
			return err
		}
		if err := tx.exec(`DELETE FROM group_members WHERE member_id = ? AND group_id IN ?
			AND group_id IN (SELECT group_id FROM group_members WHERE member_id = ?)`, from, chunk, to); err != nil {
			return err
		}
		return tx.exec(`UPDATE group_members SET member_id = ? WHERE member_id = ? AND group_id IN ?`, to, from, chunk)
	})
	if err != nil {
		return err
	}
	if len(scoped) > 0 {
		return tx.touchBelow(to)
	}
	return nil
}

// mergeReferences moves every reference to from (about to be deleted) to
// to, the person it joined: group memberships, the manager of users that
// are not linked people, and the manager in contributions' records, whose
// people it adds to p. It reports whether it rewrote any record.
func mergeReferences(tx *txn, p *peopleChange, from, to string, now time.Time) (bool, error) {
	if err := moveMemberships(tx, from, to, "", now); err != nil {
		return false, err
	}
	var plain []struct {
		Seq  int64
		ID   string
		Doc  string
		Hash string
	}
	if err := tx.orm.Raw(`SELECT seq, id, doc, COALESCE(sync_hash, '') AS hash FROM users u WHERE manager_id = ?
		AND NOT EXISTS (SELECT 1 FROM contributions c WHERE c.user_id = u.id)`, from).Scan(&plain).Error; err != nil {
		return false, translate(err)
	}
	for _, r := range plain {
		if err := setManager(tx, r.Seq, r.ID, r.Doc, storage.ManagerFix{ManagerID: to, Hash: r.Hash}, now); err != nil {
			return false, err
		}
	}
	var linked []struct {
		SourceID  string
		SourceKey string
		UserID    string
		Record    string
	}
	if err := tx.orm.Raw(`SELECT source_id, source_key, user_id, record FROM contributions WHERE manager_id = ?`, from).
		Scan(&linked).Error; err != nil {
		return false, translate(err)
	}
	for _, c := range linked {
		record, err := withManager(c.Record, to)
		if err != nil {
			return false, fmt.Errorf("contribution %s of source %s: %w", c.SourceKey, c.SourceID, err)
		}
		if err := tx.exec(`UPDATE contributions SET record = ?, manager_id = ? WHERE source_id = ? AND source_key = ?`,
			record, to, c.SourceID, c.SourceKey); err != nil {
			return false, err
		}
		delete(p.records, contributionKey{c.SourceID, c.SourceKey})
		p.touch(c.UserID)
	}
	return len(linked) > 0, nil
}
