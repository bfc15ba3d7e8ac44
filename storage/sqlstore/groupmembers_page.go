package sqlstore

import (
	"context"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// GroupMembers pages through a group's member rows on their primary key
// (group_id, member_id), in GetGroup's member-id order.
func (s *Store) GroupMembers(ctx context.Context, groupID string, offset, limit int) ([]storage.Member, int, error) {
	db, err := s.reader(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: group members: %w", err)
	}
	var counts struct{ Found, Members int }
	if err := db.Raw(`SELECT (SELECT COUNT(*) FROM groups WHERE id = ?) AS found,
		(SELECT COUNT(*) FROM group_members WHERE group_id = ?) AS members`, groupID, groupID).Scan(&counts).Error; err != nil {
		return nil, 0, fmt.Errorf("sqlstore: group members: %w", translate(err))
	}
	if counts.Found == 0 {
		return nil, 0, fmt.Errorf("sqlstore: group %s: %w", groupID, storage.ErrNotFound)
	}
	out := []storage.Member{}
	if limit <= 0 || offset >= counts.Members {
		return out, counts.Members, nil
	}
	done, err := s.admit(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: group members: %w", err)
	}
	defer done()
	rows, err := s.query(ctx, memberQuery+"m.group_id = ? ORDER BY m.member_id LIMIT ? OFFSET ?", groupID, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: group members: %w", err)
	}
	defer rows.Close()
	page := map[string][]storage.Member{}
	if err := scanMemberRows(ctx, rows, page); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: group members: %w", err)
	}
	return append(out, page[groupID]...), counts.Members, nil
}
