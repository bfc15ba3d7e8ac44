package csv_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/scimgate/scimgate/sources"
	"github.com/scimgate/scimgate/sources/csv"
	"github.com/scimgate/scimgate/sources/sourcetest"
)

// TestEveryFileReadReachesTheUpstreamMetrics: a file read is this kind's
// upstream request; a run reads each file twice (check, then stream).
func TestEveryFileReadReachesTheUpstreamMetrics(t *testing.T) {
	users := write(t, "users.csv", "externalId,userName\ne1,ann@example.com\n")
	groups := write(t, "groups.csv", "externalId,displayName,members\ng1,Sales,e1\n")
	tests := []struct {
		name          string
		users, groups string
		want          map[sources.UpstreamOutcome]int
	}{
		{"both files", users, groups, map[sources.UpstreamOutcome]int{sources.UpstreamOK: 4}},
		{"users only", users, "", map[sources.UpstreamOutcome]int{sources.UpstreamOK: 2}},
		{"groups file missing", users, filepath.Join(t.TempDir(), "gone.csv"),
			map[sources.UpstreamOutcome]int{sources.UpstreamOK: 1, sources.UpstreamError: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := &sourcetest.UpstreamCounter{}
			src, err := (&csv.Config{UsersPath: tc.users, GroupsPath: tc.groups}).Open(sources.Env{Upstream: seen})
			if err != nil {
				t.Fatal(err)
			}
			src.Sync(context.Background(), sources.Request{}, &sourcetest.Recorder{})
			if got := seen.Counts(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("outcomes = %v, want %v", got, tc.want)
			}
		})
	}
}
