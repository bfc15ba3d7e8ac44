package storage

import (
	"context"
	"time"
)

// SyncedUser is what the sync engine keeps about a user it wrote: enough
// to tell whether a record changed without reading the document.
type SyncedUser struct {
	ID            string
	Owner         string
	Key           string // the source's stable id (objectGUID, Graph id, ...)
	Hash          string // hash of the mapped record last written; "" forces a rewrite
	UserName      string // lower-cased: compare with strings.EqualFold
	Active        bool
	DeactivatedAt time.Time // set when a sync deactivated the user; zero otherwise
}

// SyncedGroup is the group counterpart of SyncedUser.
type SyncedGroup struct {
	ID          string
	Key         string
	Hash        string
	DisplayName string
}

// UserWrite is one user written by a sync. On update, User.ID names the
// user; the document is replaced, and the owner becomes the writing source
// (which is how a source with higher precedence takes a user over).
type UserWrite struct {
	User User
	Key  string
	Hash string
}

// UserBatch is a set of user changes applied in one transaction.
type UserBatch struct {
	Create     []UserWrite
	Update     []UserWrite
	Deactivate []string // ids: active=false, deactivated now
	Delete     []string // ids
	// Progress, when set, is stored in the same transaction.
	Progress *RunProgress
}

// RunProgress is a run's counts as they are once the write that carries
// them commits. Stored with the rows, they never claim more or less than
// the database holds, even when the process dies right after the commit.
type RunProgress struct {
	RunID  string
	Counts RunCounts
}

// GroupWrite is one group written by a sync. Members, when set, is applied
// to the membership rows (only the rows named are touched).
type GroupWrite struct {
	Group   Group
	Key     string
	Hash    string
	Members *MemberChange
	// MembersOnly applies Members and leaves the group's attributes and
	// hash as they are (used for members resolved late in a run).
	MembersOnly bool
}

// GroupBatch is a set of group changes applied in one transaction.
type GroupBatch struct {
	Create []GroupWrite
	Update []GroupWrite
	Delete []string
	// Progress, when set, is stored in the same transaction.
	Progress *RunProgress
}

// ManagerFix sets a user's manager (by id) once the engine has resolved
// it, with the hash of the record as it is now complete.
type ManagerFix struct {
	ManagerID string
	Hash      string
}

// UserClaim says who holds a userName.
type UserClaim struct {
	ID    string
	Owner string
	Key   string
}

// SyncStore is what the sync engine writes through. Every write bumps the
// version and lastModified of what it changes and nothing else, so SCIM
// readers see sync changes like any other.
type SyncStore interface {
	// SyncedUsers returns the users owner holds under the given keys,
	// by key; keys it does not hold are absent from the map.
	SyncedUsers(ctx context.Context, owner string, keys []string) (map[string]SyncedUser, error)
	// EachSyncedUser calls fn for every user owner holds, in key order,
	// without holding them all in memory.
	EachSyncedUser(ctx context.Context, owner string, fn func(SyncedUser) error) error
	// CountOwned returns how many users and groups owner holds.
	CountOwned(ctx context.Context, owner string) (users, groups int, err error)
	// ClaimsByUserName returns who holds each userName, by lower-cased name.
	ClaimsByUserName(ctx context.Context, userNames []string) (map[string]UserClaim, error)
	// ApplyUsers writes b in one transaction: all of it or nothing.
	// ErrConflict if a userName is taken.
	ApplyUsers(ctx context.Context, owner string, b UserBatch) error
	// SetManagers points users (by id) at their managers in one
	// transaction and records the sync hash that now describes each; a
	// change bumps the user's version. Unknown user ids are skipped.
	SetManagers(ctx context.Context, fixes map[string]ManagerFix) error

	// SyncedGroups and EachSyncedGroup are SyncedUsers for groups.
	SyncedGroups(ctx context.Context, owner string, keys []string) (map[string]SyncedGroup, error)
	EachSyncedGroup(ctx context.Context, owner string, fn func(SyncedGroup) error) error
	// MemberIDs returns the ids of a group's direct members.
	MemberIDs(ctx context.Context, groupID string) ([]string, error)
	// ApplyGroups writes b in one transaction. ErrConflict if a
	// displayName is taken; members that do not exist are skipped.
	ApplyGroups(ctx context.Context, owner string, b GroupBatch) error
}
