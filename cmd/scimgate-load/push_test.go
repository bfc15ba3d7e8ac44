package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// TestMain lets the test binary be the -serve child that startServer
// starts (it runs os.Args[0]), as the built tool is.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "-serve" {
		if err := serve(context.Background(), os.Args[2], 0); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestPushShort runs the -push mode at a tiny size: every scenario, with
// the mode's own correctness checks (the target holds exactly the
// directory after the first push, the edits after the incremental one,
// the leaver inactive), and the incremental push's writes equal to the
// changes.
func TestPushShort(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two scimgate children and waits out a debounce")
	}
	tests := []struct {
		name                   string
		users, groups, members int
		wantIncr               int // 1% of users + 2 batches per edited group
	}{
		{name: "200 users, 5 groups", users: 200, groups: 5, members: 50, wantIncr: 2 + 10},
		{name: "one group of everyone", users: 120, groups: 1, members: 240, wantIncr: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			fig, err := pushMain(t.Context(), pushOptions{users: tt.users, groups: tt.groups, members: tt.members,
				afterChange: 1, dir: t.TempDir()}, &out)
			t.Log("\n" + out.String())
			if err != nil {
				t.Fatal(err)
			}
			if fig.incrWant != tt.wantIncr {
				t.Errorf("the scenario changed %d objects and batches, want %d", fig.incrWant, tt.wantIncr)
			}
			if writes := fig.incrRequests - fig.incrMethods["GET"]; writes != tt.wantIncr {
				t.Errorf("the incremental push sent %d writes (%v), want %d", writes, fig.incrMethods, tt.wantIncr)
			}
			if fig.baselineRate <= 0 || fig.pushRate <= 0 || fig.leaver <= 0 {
				t.Errorf("figures missing: %+v", fig)
			}
			for _, line := range []string{"a. target's own ingest", "b. first push", "c. incremental push", "d. leaver"} {
				if !strings.Contains(out.String(), line) {
					t.Errorf("the output has no line %q", line)
				}
			}
		})
	}
}

// TestPushRefusesOptionsItCannotRun checks the options before anything
// starts, with an error naming the flag.
func TestPushRefusesOptionsItCannotRun(t *testing.T) {
	for _, tt := range []struct {
		o    pushOptions
		want string
	}{
		{pushOptions{users: 1, groups: 1, members: 1, afterChange: 1}, "-users 1"},
		{pushOptions{users: 10, groups: -1, members: 1, afterChange: 1}, "-groups -1"},
		{pushOptions{users: 10, groups: 1, members: 0, afterChange: 1}, "-members 0"},
		{pushOptions{users: 10, groups: 1, members: 1, afterChange: 0}, "-after-change 0"},
	} {
		tt.o.dir = t.TempDir()
		_, err := pushMain(t.Context(), tt.o, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %v, want one naming %q", tt.o, err, tt.want)
		}
	}
}
