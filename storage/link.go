package storage

import (
	"context"
	"strings"
	"time"
)

// Identity linking: a pull source that declares link keys (Source.Link)
// does not own users directly. Each of its records is a contribution to a
// person (a User row, one id for life); contributions of different sources
// that share a link key's value are one person, and the person's
// attributes are merged from them (MergeUser). A source with contributions
// is synced through the LinkStore, never through SyncStore's user methods;
// its groups stay its own and their members point at the merged people.

// LinkKey is one link key a record carries: the key's name as the
// sources' link settings name it, and its folded value.
type LinkKey struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FoldLinkValue is the form link key values compare in: trimmed and
// case-folded. An empty result never links.
func FoldLinkValue(s string) string { return FoldKey(strings.TrimSpace(s)) }

// LinkHolder is a contribution that holds a link key.
type LinkHolder struct {
	UserID string // the person it contributes to
	Source string // the contributing source's id
	Key    string // the record's key in that source
	// ApartFrom are the people this contribution was split from by hand
	// (unlink): it never links to them again, nor they to it.
	ApartFrom []string
}

// ContributionRef is a contribution without its record: enough for the
// engine to decide links, breaks and last contributions.
type ContributionRef struct {
	UserID   string
	Source   string
	Key      string
	LinkedBy string // the link key that joined it to the person; "" for the person's first
	LinkKeys []LinkKey
	// ApartFrom: see LinkHolder.
	ApartFrom []string
	// Deactivated is set when its record left the source while it was the
	// person's last contribution under a deactivating policy.
	Deactivated time.Time
}

// ContributionWrite is one record of a linked source written as a
// contribution. UserWrite.User.ID names the person: an existing person
// links the record to it (LinkedBy says by which key), a new id makes a
// new person. A contribution of the same source and key that sits on
// another person moves (a broken link, or a link made later); the person
// it leaves is recomputed, and deleted when nothing is left of it, with
// its references (group members, managers) moved to the person the
// contribution went to.
type ContributionWrite struct {
	UserWrite
	LinkKeys []LinkKey
	LinkedBy string
}

// ContributionBatch is a set of one source's contribution changes applied
// in one transaction, with every affected person recomputed (MergeUser)
// in it. A person's version and lastModified move only when the merged
// result changes.
type ContributionBatch struct {
	Upsert []ContributionWrite
	// Deactivate and Delete are keys of records that left the source. A
	// contribution that is not its person's last is removed either way
	// (the person stays, recomputed). A last one: Deactivate keeps it,
	// deactivated, and the person inactive; Delete removes it and the
	// person.
	Deactivate []string
	Delete     []string
	// Progress, when set, is stored in the same transaction.
	Progress *RunProgress
}

// RemovalOutcome is what became of a record that left its source.
type RemovalOutcome string

// Removal outcomes.
const (
	RemovalLeft        RemovalOutcome = "left"        // the contribution went; the person stays
	RemovalDeactivated RemovalOutcome = "deactivated" // the person's last: the person is inactive
	RemovalDeleted     RemovalOutcome = "deleted"     // the person's last: the person is gone
)

// ContributionResult says what a ContributionBatch did.
type ContributionResult struct {
	// Removed is what became of each key of Deactivate and Delete (keys
	// the source no longer had a contribution under are absent).
	Removed map[string]RemovalOutcome
	// Changed are the people whose merged result changed (created ones
	// included), by id.
	Changed map[string]bool
	// Deleted are the people deleted because nothing was left of them.
	Deleted []string
}

// Provenance says where a person comes from.
type Provenance struct {
	UserID        string             `json:"id"`
	Contributions []ContributionInfo `json:"contributions"`
	// Attributes names, for each attribute the person has, the source it
	// came from (the paths are MergeAttributes').
	Attributes map[string]string `json:"attributes"`
}

// ContributionInfo is one source's part in a person.
type ContributionInfo struct {
	Source      string    `json:"source"` // id
	Key         string    `json:"sourceKey"`
	LinkedBy    string    `json:"linkedBy,omitempty"`
	Deactivated time.Time `json:"deactivated,omitzero"`
}

// LinkStore keeps the contributions of linked sources. source is always a
// pull source's id (not its owner tag).
type LinkStore interface {
	// SyncedContributions returns source's contributions under the given
	// keys, by key, as the engine sees its users: ID is the person,
	// UserName and Active are the record's, Hash the record's hash.
	SyncedContributions(ctx context.Context, source string, keys []string) (map[string]SyncedUser, error)
	// EachContribution calls fn for each of source's contributions, in
	// key order, without holding them all in memory.
	EachContribution(ctx context.Context, source string, fn func(SyncedUser) error) error
	// CountContributions returns how many contributions source has.
	CountContributions(ctx context.Context, source string) (int, error)
	// LinkHolders returns the contributions (of any source) holding each
	// of keys; keys no one holds are absent.
	LinkHolders(ctx context.Context, keys []LinkKey) (map[LinkKey][]LinkHolder, error)
	// ContributionsOf returns every contribution of each person, by id.
	ContributionsOf(ctx context.Context, userIDs []string) (map[string][]ContributionRef, error)
	// AdoptOwned turns the users source owns as a plain source into its
	// contributions, once, when it starts linking: each keeps its id, and
	// its record is the stored document. It returns how many it adopted.
	AdoptOwned(ctx context.Context, source string) (int, error)
	// ApplyContributions writes b in one transaction: all of it or
	// nothing. ErrConflict if a merged userName is taken by another user.
	ApplyContributions(ctx context.Context, source string, b ContributionBatch) (ContributionResult, error)
	// SetContributionManagers is SetManagers for source's contributions
	// (by person id), each person recomputed.
	SetContributionManagers(ctx context.Context, source string, fixes map[string]ManagerFix) error
	// Provenance says which sources contribute to a person and where each
	// attribute came from. ErrNotFound for an unknown id; a user of a
	// plain source or a push client has one contribution-like entry (its
	// owner) and every attribute from it.
	Provenance(ctx context.Context, userID string) (Provenance, error)
	// Unlink splits source's contribution off the person into a new
	// person, kept apart from it on later runs, and returns the new
	// person. ErrNotFound if the person has no contribution of source;
	// ErrConflict if it is the person's only one.
	Unlink(ctx context.Context, userID, source string) (User, error)
}
