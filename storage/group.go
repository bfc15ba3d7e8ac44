package storage

// Group is a named set of users and groups. Members live in their own table
// so that changing one membership touches one row.
type Group struct {
	ID    string `json:"-"`
	Owner string `json:"-"`
	Meta  Meta   `json:"-"`

	ExternalID  string `json:"externalId,omitempty"`
	DisplayName string `json:"displayName"`
	// Members is filled by reads that ask for members; writes through
	// CreateGroup and ReplaceGroup set the whole list.
	Members []Member `json:"-"`
}

// Member kinds.
const (
	MemberUser  = "User"
	MemberGroup = "Group"
)

// Member is one direct member of a group.
type Member struct {
	Value   string // the member's id
	Type    string // MemberUser or MemberGroup
	Display string // the member's displayName (or userName), filled on reads
}

// MemberChange is a set of membership edits applied in one transaction.
type MemberChange struct {
	Add       []Member
	Remove    []string // member ids
	RemoveAll bool     // applied before Add
}
