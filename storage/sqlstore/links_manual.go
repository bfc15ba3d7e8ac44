package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// The LinkStore's one-off and hand-made changes: a plain source's users
// adopted as contributions when it starts linking, provenance, unlink.

// AdoptOwned turns source's synced users into its contributions: each
// user's document is the record, its sync hash the hash, and the user
// becomes a person (no source key, no hash: the plain SyncStore no longer
// sees it). Its document, version and views stay as they are; the records'
// link keys come with the run that follows, as their hashes differ.
func (s *Store) AdoptOwned(ctx context.Context, source string) (int, error) {
	if !s.hasLinks() {
		return 0, wrapOp("adopt owned users", storage.Invalid("this database's schema predates identity linking"))
	}
	owner := ownerOf(source)
	var n int64
	err := s.write(ctx, func(tx *txn) error {
		err := tx.exec(`INSERT INTO contributions (source_id, `+strings.Join(contributionColumns, ", ")+`)
			SELECT ?, source_key, id, '', '[]', doc, COALESCE(sync_hash, ''), user_name, active, manager_id, deactivated_at, '[]'
			FROM users WHERE owner = ? AND `+keyed+`true
			ON CONFLICT (source_id, source_key) DO NOTHING`, source, owner)
		if err != nil {
			return err
		}
		res := tx.orm.Exec(`UPDATE users SET source_key = NULL, sync_hash = '' WHERE owner = ? AND `+keyed+`true`, owner)
		n = res.RowsAffected
		return translate(res.Error)
	})
	if err != nil {
		return 0, wrapOp("adopt owned users", err)
	}
	return int(n), nil
}

// Provenance reads a person's contributions and merges them as the last
// write did; a user no linked source contributes to comes whole from its
// owner.
func (s *Store) Provenance(ctx context.Context, userID string) (storage.Provenance, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return storage.Provenance{}, err
	}
	out := storage.Provenance{UserID: userID, Contributions: []storage.ContributionInfo{}, Attributes: map[string]string{}}
	refs, err := s.ContributionsOf(ctx, []string{userID})
	if err != nil {
		return storage.Provenance{}, err
	}
	if len(refs[userID]) == 0 {
		owner := strings.TrimPrefix(u.Owner, storage.SourceOwnerPrefix)
		var key string
		if err := s.db.WithContext(ctx).Raw("SELECT COALESCE(source_key, '') FROM users WHERE id = ?", userID).Scan(&key).Error; err != nil {
			return storage.Provenance{}, fmt.Errorf("sqlstore: provenance: %w", translate(err))
		}
		out.Contributions = append(out.Contributions, storage.ContributionInfo{Source: owner, Key: key})
		_, from := storage.MergeUser([]storage.MergeInput{{Source: owner, Record: &u}})
		out.Attributes = from
		return out, nil
	}
	for _, r := range refs[userID] {
		out.Contributions = append(out.Contributions, storage.ContributionInfo{Source: r.Source, Key: r.Key,
			LinkedBy: r.LinkedBy, Deactivated: r.Deactivated})
	}
	db := s.db.WithContext(ctx)
	rows, err := loadMergeRows(db, []string{userID})
	if err != nil {
		return storage.Provenance{}, fmt.Errorf("sqlstore: provenance: %w", err)
	}
	sourceIDs := map[string]bool{}
	for _, r := range rows[userID] {
		sourceIDs[r.source] = true
	}
	sources, err := loadMergeSources(db, slices.Sorted(maps.Keys(sourceIDs)))
	if err != nil {
		return storage.Provenance{}, fmt.Errorf("sqlstore: provenance: %w", err)
	}
	_, from, err := mergePerson(rows[userID], sources, nil)
	if err != nil {
		return storage.Provenance{}, fmt.Errorf("sqlstore: provenance: %w", err)
	}
	out.Attributes = from
	return out, nil
}

// Unlink moves source's contribution off the person into a new person
// that it is kept apart from, with its source's group memberships, and
// recomputes both.
func (s *Store) Unlink(ctx context.Context, userID, source string) (storage.User, error) {
	if !s.hasLinks() {
		return storage.User{}, wrapOp("unlink", fmt.Errorf("user %s: %w", userID, storage.ErrNotFound))
	}
	now := msUTC(s.now())
	var out storage.User
	err := s.write(ctx, func(tx *txn) error {
		var rows []struct {
			SourceID  string
			SourceKey string
			UserName  string
			ApartFrom string
		}
		if err := tx.orm.Raw(`SELECT source_id, source_key, user_name, apart_from FROM contributions WHERE user_id = ?
			ORDER BY source_id, source_key`, userID).Scan(&rows).Error; err != nil {
			return translate(err)
		}
		var split []int
		for i, r := range rows {
			if r.SourceID == source {
				split = append(split, i)
			}
		}
		switch {
		case len(split) == 0:
			return fmt.Errorf("user %s has no contribution of source %s: %w", userID, source, storage.ErrNotFound)
		case len(split) == len(rows):
			return fmt.Errorf("source %s is all there is of user %s; there is nothing to split it from: %w",
				source, userID, storage.ErrConflict)
		}
		person := newID()
		p := newPeopleChange()
		if err := tx.touchBefore(userID); err != nil { // for whole views scoped by source
			return err
		}
		for _, i := range split {
			r := rows[i]
			var apart []string
			if err := fromJSONText("apart_from", r.ApartFrom, &apart); err != nil {
				return err
			}
			if !slices.Contains(apart, userID) {
				apart = append(apart, userID)
			}
			apartJSON, err := jsonText("apart_from", apart)
			if err != nil {
				return err
			}
			if err := tx.exec(`UPDATE contributions SET user_id = ?, linked_by = '', apart_from = ? WHERE source_id = ? AND source_key = ?`,
				person, apartJSON, source, r.SourceKey); err != nil {
				return err
			}
			if err := tx.exec(`UPDATE link_keys SET user_id = ? WHERE source_id = ? AND source_key = ?`,
				person, source, r.SourceKey); err != nil {
				return err
			}
			p.moved(source, userID, person)
		}
		res := storage.ContributionResult{Changed: map[string]bool{}}
		if err := recomputePeople(tx, p, now, &res); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return fmt.Errorf("unlinking would leave two users with the userName %q: %w", rows[split[0]].UserName, err)
			}
			return err
		}
		_, u, err := loadUser(tx, person)
		out = u
		return err
	})
	if err != nil {
		return storage.User{}, wrapOp("unlink", err)
	}
	return out, nil
}

// dropContributions removes a person's contributions and their link keys
// when the person is deleted by hand (DeleteUser): as a plain source's
// next full run makes a deleted user anew, its records then make new
// people instead of pointing at one that is gone.
func dropContributions(tx *txn, person string) error {
	if tx.noLinks {
		return nil
	}
	if err := tx.exec(`DELETE FROM link_keys WHERE (source_id, source_key) IN
		(SELECT source_id, source_key FROM contributions WHERE user_id = ?)`, person); err != nil {
		return err
	}
	return tx.exec(`DELETE FROM contributions WHERE user_id = ?`, person)
}
