package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/storage"
)

// contributionRow is a ContributionWrite flattened before the write lock
// is taken, as flattenWrites does for plain users.
type contributionRow struct {
	key, person, linkedBy string
	linkKeys              []storage.LinkKey
	keysJSON, record      string
	hash, userName        string
	active                bool
	managerID             any           // NULL for none
	user                  *storage.User // the record, so the merge need not decode it
}

func flattenContributions(ws []storage.ContributionWrite) ([]contributionRow, error) {
	out := make([]contributionRow, len(ws))
	seen := make(map[string]bool, len(ws))
	for i, w := range ws {
		if w.Key == "" {
			return nil, storage.Invalid("a contribution needs its record's key")
		}
		if seen[w.Key] {
			return nil, storage.Invalid(fmt.Sprintf("contribution %q is written twice in one batch", w.Key))
		}
		seen[w.Key] = true
		u := w.User
		person := u.ID
		if person == "" {
			person = newID()
		}
		u.ID, u.Owner, u.Meta = "", "", storage.Meta{}
		record, err := json.Marshal(&u)
		if err != nil {
			return nil, fmt.Errorf("encode contribution %q: %w", w.Key, err)
		}
		var keys []storage.LinkKey
		for _, k := range w.LinkKeys {
			if v := storage.FoldLinkValue(k.Value); v != "" {
				keys = append(keys, storage.LinkKey{Name: k.Name, Value: v})
			}
		}
		keysJSON, err := jsonText("link keys", keys)
		if err != nil {
			return nil, err
		}
		out[i] = contributionRow{key: w.Key, person: person, linkedBy: w.LinkedBy, linkKeys: keys,
			keysJSON: keysJSON, record: string(record), hash: w.Hash, userName: foldKey(u.UserName),
			active: u.Active, managerID: exact(managerOf(&u)), user: &u}
	}
	return out, nil
}

// managerOf is the manager id a user's document names, or "".
func managerOf(u *storage.User) string {
	if u.Enterprise == nil || u.Enterprise.Manager == nil {
		return ""
	}
	return u.Enterprise.Manager.Value
}

// storedContribution is what a write needs of a contribution already
// there.
type storedContribution struct{ person string }

// ApplyContributions writes b in one transaction: the contributions and
// their link keys first, then the removals (so that whether a removal is
// its person's last counts the batch's links), then every person they
// touch is recomputed (links_merge.go).
func (s *Store) ApplyContributions(ctx context.Context, source string, b storage.ContributionBatch) (storage.ContributionResult, error) {
	res := storage.ContributionResult{Removed: map[string]storage.RemovalOutcome{}, Changed: map[string]bool{}}
	rows, err := flattenContributions(b.Upsert)
	if err != nil {
		return res, wrapOp("apply contributions", err)
	}
	now := msUTC(s.now())
	err = s.write(ctx, func(tx *txn) error {
		res.Removed, res.Changed, res.Deleted = map[string]storage.RemovalOutcome{}, map[string]bool{}, nil
		keys := make([]string, 0, len(rows)+len(b.Deactivate)+len(b.Delete))
		for _, r := range rows {
			keys = append(keys, r.key)
		}
		keys = append(append(keys, b.Deactivate...), b.Delete...)
		stored, err := loadContributions(tx, source, keys)
		if err != nil {
			return err
		}
		p := newPeopleChange()
		for _, r := range rows {
			old, ok := stored[r.key]
			switch {
			case !ok:
				p.contributed(r.person)
			case old.person != r.person:
				p.moved(source, old.person, r.person)
			default:
				p.touch(r.person)
			}
			p.records[contributionKey{source, r.key}] = r.user
			stored[r.key] = storedContribution{person: r.person}
		}
		// Whole views scoped by source read contributions: they need to
		// know whom they held before (touchBefore, appwhole_refresh.go).
		before := slices.Collect(maps.Keys(p.people))
		for _, c := range stored {
			before = append(before, c.person)
		}
		if err := tx.touchBefore(before...); err != nil {
			return err
		}
		if err := upsertContributions(tx, source, rows); err != nil {
			return err
		}
		if err := removeContributions(tx, source, stored, b.Deactivate, b.Delete, now, p, res.Removed); err != nil {
			return err
		}
		if err := recomputePeople(tx, p, now, &res); err != nil {
			return err
		}
		return saveProgress(tx, b.Progress)
	})
	if err != nil {
		return storage.ContributionResult{}, wrapOp("apply contributions", err)
	}
	return res, nil
}

// loadContributions reads source's contributions under keys.
func loadContributions(tx *txn, source string, keys []string) (map[string]storedContribution, error) {
	out := make(map[string]storedContribution, len(keys))
	err := chunks(keys, keyChunk, func(chunk []string) error {
		rows, err := tx.orm.Raw(`SELECT source_key, user_id FROM contributions
			WHERE source_id = ? AND source_key IN ?`, source, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var key string
			var c storedContribution
			if err := rows.Scan(&key, &c.person); err != nil {
				return translate(err)
			}
			out[key] = c
			return nil
		})
	})
	return out, err
}

// contributionColumns are the columns upsertContributions writes, after
// source_id.
var contributionColumns = []string{"source_key", "user_id", "linked_by", "link_keys", "record", "hash",
	"user_name", "active", "manager_id", "deactivated_at", "apart_from"}

// upsertStatement inserts rows contributions, or replaces what the record
// says of those already there: their apart_from (a hand-made split) stays,
// and a record written again is no longer deactivated.
func upsertStatement(rows int) string {
	ph := "(" + placeholders(len(contributionColumns)+1) + ")"
	var set []string
	for _, c := range contributionColumns {
		if c != "source_key" && c != "apart_from" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return "INSERT INTO contributions (source_id, " + strings.Join(contributionColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(ph+", ", rows), ", ") +
		" ON CONFLICT (source_id, source_key) DO UPDATE SET " + strings.Join(set, ", ")
}

// upsertChunk is the rows of one upsert statement: 12 values a row stay
// far below SQLite's variable limit.
const upsertChunk = 200

// upsertContributions writes rows and replaces their link keys.
func upsertContributions(tx *txn, source string, rows []contributionRow) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, len(rows)*(len(contributionColumns)+1))
	for _, r := range rows {
		args = append(args, source, r.key, r.person, r.linkedBy, r.keysJSON, r.record, r.hash,
			r.userName, r.active, r.managerID, nil, "[]")
	}
	if err := execRows(tx, upsertStatement, len(contributionColumns)+1, upsertChunk, args); err != nil {
		return err
	}
	keys := make([]string, len(rows))
	var keyArgs []any
	for i, r := range rows {
		keys[i] = r.key
		for _, k := range r.linkKeys {
			keyArgs = append(keyArgs, source, r.key, k.Name, k.Value, r.person)
		}
	}
	if err := deleteLinkKeys(tx, source, keys); err != nil {
		return err
	}
	return execRows(tx, linkKeysInsert, 5, upsertChunk, keyArgs)
}

// linkKeysInsert inserts rows link keys. Two keys of one name on a record
// are one: ON CONFLICT keeps the first.
func linkKeysInsert(rows int) string {
	return "INSERT INTO link_keys (source_id, source_key, name, value, user_id) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", rows), ", ") + " ON CONFLICT DO NOTHING"
}

func deleteLinkKeys(tx *txn, source string, keys []string) error {
	return chunks(keys, keyChunk, func(chunk []string) error {
		return tx.exec("DELETE FROM link_keys WHERE source_id = ? AND source_key IN ?", source, chunk)
	})
}

// execRows runs statement(n) over args, width values a row, in statements
// of at most per rows: the full-size statement is prepared once.
func execRows(tx *txn, statement func(rows int) string, width, per int, args []any) error {
	n := len(args) / width
	if n == 0 {
		return nil
	}
	if full := n / per; full > 0 {
		exec, done, err := tx.prepare(statement(per))
		if err != nil {
			return err
		}
		defer done()
		for i := 0; i < full; i++ {
			if err := exec(args[i*per*width : (i+1)*per*width]...); err != nil {
				return err
			}
		}
	}
	if rest := n % per; rest > 0 {
		exec, done, err := tx.prepare(statement(rest))
		if err != nil {
			return err
		}
		defer done()
		return exec(args[(n-rest)*width:]...)
	}
	return nil
}

// removeContributions applies the keys of records that left the source,
// in order: a contribution with others beside it goes; a person's last is
// deactivated (kept, its person inactive) or deleted with its person.
func removeContributions(tx *txn, source string, stored map[string]storedContribution,
	deactivate, del []string, now time.Time, p *peopleChange, out map[string]storage.RemovalOutcome) error {
	var people []string
	for _, keys := range [][]string{deactivate, del} {
		for _, k := range keys {
			if c, ok := stored[k]; ok {
				people = append(people, c.person)
			}
		}
	}
	if len(people) == 0 {
		return nil
	}
	counts, err := countContributions(tx, people)
	if err != nil {
		return err
	}
	var gone, deactivated []string
	for _, step := range []struct {
		keys       []string
		deactivate bool
	}{{deactivate, true}, {del, false}} {
		for _, k := range step.keys {
			c, ok := stored[k]
			if !ok {
				continue
			}
			p.touch(c.person)
			switch {
			case counts[c.person] > 1:
				out[k] = storage.RemovalLeft
			case step.deactivate:
				out[k] = storage.RemovalDeactivated
				deactivated = append(deactivated, k)
				continue
			default:
				out[k] = storage.RemovalDeleted
			}
			counts[c.person]--
			p.contributed(c.person)
			delete(stored, k)
			gone = append(gone, k)
		}
	}
	if err := chunks(deactivated, keyChunk, func(chunk []string) error {
		return tx.exec(`UPDATE contributions SET deactivated_at = COALESCE(deactivated_at, ?), active = ?
			WHERE source_id = ? AND source_key IN ?`, millis(now), false, source, chunk)
	}); err != nil {
		return err
	}
	if err := deleteLinkKeys(tx, source, gone); err != nil {
		return err
	}
	return chunks(gone, keyChunk, func(chunk []string) error {
		return tx.exec("DELETE FROM contributions WHERE source_id = ? AND source_key IN ?", source, chunk)
	})
}

// countContributions counts each person's contributions.
func countContributions(tx *txn, people []string) (map[string]int, error) {
	slices.Sort(people)
	people = slices.Compact(people)
	out := make(map[string]int, len(people))
	err := chunks(people, keyChunk, func(chunk []string) error {
		rows, err := tx.orm.Raw(`SELECT user_id, COUNT(*) FROM contributions WHERE user_id IN ? GROUP BY user_id`, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return translate(err)
			}
			out[id] = n
			return nil
		})
	})
	return out, err
}

// SetContributionManagers points source's contributions (by person) at
// their managers, records their hashes, and recomputes the people.
func (s *Store) SetContributionManagers(ctx context.Context, source string, fixes map[string]storage.ManagerFix) error {
	if len(fixes) == 0 {
		return nil
	}
	people := make([]string, 0, len(fixes))
	for id := range fixes {
		people = append(people, id)
	}
	slices.Sort(people)
	now := msUTC(s.now())
	err := s.write(ctx, func(tx *txn) error {
		p := newPeopleChange()
		err := chunks(people, keyChunk, func(chunk []string) error {
			var rows []struct {
				SourceKey string
				UserID    string
				Record    string
			}
			if err := tx.orm.Raw(`SELECT source_key, user_id, record FROM contributions WHERE source_id = ? AND user_id IN ?`,
				source, chunk).Scan(&rows).Error; err != nil {
				return translate(err)
			}
			for _, r := range rows {
				fix := fixes[r.UserID]
				record, err := withManager(r.Record, fix.ManagerID)
				if err != nil {
					return fmt.Errorf("contribution %s: %w", r.SourceKey, err)
				}
				if err := tx.exec(`UPDATE contributions SET record = ?, manager_id = ?, hash = ? WHERE source_id = ? AND source_key = ?`,
					record, exact(fix.ManagerID), fix.Hash, source, r.SourceKey); err != nil {
					return err
				}
				p.touch(r.UserID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		res := storage.ContributionResult{Changed: map[string]bool{}}
		return recomputePeople(tx, p, now, &res)
	})
	return wrapOp("set contribution managers", err)
}

// withManager returns the record with its manager set to id ("": none).
func withManager(record, id string) (string, error) {
	var u storage.User
	if err := json.Unmarshal([]byte(record), &u); err != nil {
		return "", fmt.Errorf("decode record: %w", err)
	}
	switch {
	case id != "":
		if u.Enterprise == nil {
			u.Enterprise = &storage.EnterpriseExt{}
		}
		u.Enterprise.Manager = &storage.ManagerRef{Value: id}
	case u.Enterprise != nil:
		u.Enterprise.Manager = nil
		if *u.Enterprise == (storage.EnterpriseExt{}) {
			u.Enterprise = nil
		}
	}
	b, err := json.Marshal(&u)
	if err != nil {
		return "", fmt.Errorf("encode record: %w", err)
	}
	return string(b), nil
}
