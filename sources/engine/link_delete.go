package engine

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/storage"
)

// markLeaves turns the removals of a linked source's records whose
// person has another contribution into leaves: only the contribution
// goes, and the person stays. The others are the person's last and
// follow the deletion policy as they came.
func (st *runState) markLeaves(ctx context.Context, list []storage.PendingDeletion) ([]storage.PendingDeletion, error) {
	ids := map[string]bool{}
	for _, p := range list {
		if p.Kind == sources.KindUser {
			ids[p.ID] = true
		}
	}
	if len(ids) == 0 {
		return list, nil
	}
	people, err := st.contributionsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i, p := range list {
		if p.Kind == sources.KindUser && len(people[p.ID]) > 1 {
			list[i].Action = storage.ChangeLeave
		}
	}
	return list, nil
}

// guarded is how many of list count against the deletion guard: the
// removals that end a person or a group. A record leaving a person that
// stays removes nobody.
func (st *runState) guarded(list []storage.PendingDeletion) int {
	n := 0
	for _, p := range list {
		if p.Action != storage.ChangeLeave {
			n++
		}
	}
	return n
}

// removalOutcomes are the change actions of the store's removal outcomes.
var removalOutcomes = map[storage.RemovalOutcome]string{
	storage.RemovalLeft:        storage.ChangeLeave,
	storage.RemovalDeactivated: storage.ChangeDeactivate,
	storage.RemovalDeleted:     storage.ChangeDelete,
}

// countRemoval returns c with one removal of the given action counted.
func countRemoval(c storage.RunCounts, action string) storage.RunCounts {
	switch action {
	case storage.ChangeLeave:
		c.Left++
	case storage.ChangeDelete:
		c.Deleted++
	default:
		c.Deactivated++
	}
	return c
}

// removeContributions removes a linked source's records that left it, in
// one transaction. A leave is sent as the policy would remove the
// record, so that if the person's other contributions went meanwhile the
// policy applies to it; the store says what it did (Removed), and that is
// what is counted and logged. A dry run logs what it would do.
func (st *runState) removeContributions(ctx context.Context, users []storage.PendingDeletion) error {
	pol := st.job.Source.Deletion
	var b storage.ContributionBatch
	planned := st.run.Counts
	for _, p := range users {
		planned = countRemoval(planned, p.Action)
		deleteIt := p.Action == storage.ChangeDelete ||
			(p.Action == storage.ChangeLeave && pol.Policy == storage.PolicyDelete && pol.GraceDays == 0)
		if deleteIt {
			b.Delete = append(b.Delete, p.Key)
		} else {
			b.Deactivate = append(b.Deactivate, p.Key)
		}
	}
	if st.job.DryRun {
		st.removed(users, planned)
		return nil
	}
	b.Progress = st.progressAt(planned)
	res, err := st.e.store.ApplyContributions(ctx, st.job.Source.ID, b)
	if err != nil {
		return fmt.Errorf("remove contributions: %w", err)
	}
	after := st.run.Counts
	done := make([]storage.PendingDeletion, 0, len(users))
	for _, p := range users {
		outcome, ok := res.Removed[p.Key]
		if !ok {
			continue // gone meanwhile
		}
		p.Action = removalOutcomes[outcome]
		after = countRemoval(after, p.Action)
		done = append(done, p)
	}
	st.removed(done, after)
	return nil
}
