package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/scimgate/scimgate/storage"
)

// The LinkStore (storage/link.go): the reads the engine resolves links
// with. The writes are in links_apply.go, the people's recomputation in
// links_merge.go, the hand-made and one-off changes in links_manual.go.

var _ storage.LinkStore = (*Store)(nil)

// contributionSelect is what SyncedUser is read from: the copied-out
// columns, never the record.
const contributionSelect = `SELECT user_id, source_key, hash, user_name, active, deactivated_at FROM contributions`

func scanContribution(rows *sql.Rows, owner string) (storage.SyncedUser, error) {
	u := storage.SyncedUser{Owner: owner}
	var deactivated sql.NullInt64
	if err := rows.Scan(&u.ID, &u.Key, &u.Hash, &u.UserName, &u.Active, &deactivated); err != nil {
		return u, translate(err)
	}
	u.DeactivatedAt = fromNullMillis(deactivated)
	return u, nil
}

// ownerOf is the owner tag of a pull source's resources, from its id.
func ownerOf(source string) string { return storage.Source{ID: source}.Owner() }

// SyncedContributions looks source's contributions up by key.
func (s *Store) SyncedContributions(ctx context.Context, source string, keys []string) (map[string]storage.SyncedUser, error) {
	out := make(map[string]storage.SyncedUser, len(keys))
	if !s.hasLinks() {
		return out, nil
	}
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	owner := ownerOf(source)
	err = chunks(keys, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(contributionSelect+" WHERE source_id = ? AND source_key IN ?", source, chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			u, err := scanContribution(rows, owner)
			out[u.Key] = u
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: synced contributions: %w", err)
	}
	return out, nil
}

// EachContribution walks source's contributions in key order, a page at a
// time, holding no read open while fn runs (as EachSyncedUser).
func (s *Store) EachContribution(ctx context.Context, source string, fn func(storage.SyncedUser) error) error {
	if !s.hasLinks() {
		return nil
	}
	owner := ownerOf(source)
	after := "" // keys are never empty
	for {
		db, err := s.reader(ctx)
		if err != nil {
			return err
		}
		rows, err := db.Raw(contributionSelect+" WHERE source_id = ? AND source_key > ? ORDER BY source_key LIMIT ?",
			source, after, eachPage).Rows()
		if err != nil {
			return fmt.Errorf("sqlstore: each contribution: %w", translate(err))
		}
		page := make([]storage.SyncedUser, 0, eachPage)
		err = scanRows(rows, func() error {
			u, err := scanContribution(rows, owner)
			page = append(page, u)
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlstore: each contribution: %w", err)
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < eachPage {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// CountContributions counts source's contributions.
func (s *Store) CountContributions(ctx context.Context, source string) (int, error) {
	if !s.hasLinks() {
		return 0, nil
	}
	var n int
	if err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM contributions WHERE source_id = ?`, source).Row().Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count contributions: %w", translate(err))
	}
	return n, nil
}

// LinkHolders finds the holders of keys, one indexed lookup per key name
// and chunk of values.
func (s *Store) LinkHolders(ctx context.Context, keys []storage.LinkKey) (map[storage.LinkKey][]storage.LinkHolder, error) {
	out := make(map[storage.LinkKey][]storage.LinkHolder)
	if !s.hasLinks() || len(keys) == 0 {
		return out, nil
	}
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string][]string{}
	for _, k := range keys {
		if k.Value != "" {
			byName[k.Name] = append(byName[k.Name], k.Value)
		}
	}
	for name, values := range byName {
		slices.Sort(values)
		values = slices.Compact(values)
		err := chunks(values, keyChunk, func(chunk []string) error {
			rows, err := db.Raw(`SELECT k.value, k.user_id, k.source_id, k.source_key, c.apart_from
				FROM link_keys k JOIN contributions c ON c.source_id = k.source_id AND c.source_key = k.source_key
				WHERE k.name = ? AND k.value IN ? ORDER BY k.source_id, k.source_key`, name, chunk).Rows()
			if err != nil {
				return translate(err)
			}
			return scanRows(rows, func() error {
				var value, apart string
				var h storage.LinkHolder
				if err := rows.Scan(&value, &h.UserID, &h.Source, &h.Key, &apart); err != nil {
					return translate(err)
				}
				if err := fromJSONText("apart_from", apart, &h.ApartFrom); err != nil {
					return err
				}
				k := storage.LinkKey{Name: name, Value: value}
				out[k] = append(out[k], h)
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: link holders: %w", err)
		}
	}
	return out, nil
}

// refSelect is what ContributionRef is read from.
const refSelect = `SELECT user_id, source_id, source_key, linked_by, link_keys, apart_from, deactivated_at FROM contributions`

func scanRef(rows *sql.Rows) (storage.ContributionRef, error) {
	var c storage.ContributionRef
	var keys, apart string
	var deactivated sql.NullInt64
	if err := rows.Scan(&c.UserID, &c.Source, &c.Key, &c.LinkedBy, &keys, &apart, &deactivated); err != nil {
		return c, translate(err)
	}
	if err := fromJSONText("link_keys", keys, &c.LinkKeys); err != nil {
		return c, err
	}
	if err := fromJSONText("apart_from", apart, &c.ApartFrom); err != nil {
		return c, err
	}
	c.Deactivated = fromNullMillis(deactivated)
	return c, nil
}

// ContributionsOf returns the people's contributions, each person's in
// (source, key) order.
func (s *Store) ContributionsOf(ctx context.Context, userIDs []string) (map[string][]storage.ContributionRef, error) {
	out := make(map[string][]storage.ContributionRef, len(userIDs))
	if !s.hasLinks() {
		return out, nil
	}
	db, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	err = chunks(userIDs, keyChunk, func(chunk []string) error {
		rows, err := db.Raw(refSelect+" WHERE user_id IN ? ORDER BY user_id, source_id, source_key", chunk).Rows()
		if err != nil {
			return translate(err)
		}
		return scanRows(rows, func() error {
			c, err := scanRef(rows)
			out[c.UserID] = append(out[c.UserID], c)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: contributions of: %w", err)
	}
	return out, nil
}
