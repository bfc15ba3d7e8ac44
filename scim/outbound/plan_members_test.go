package outbound

import (
	"fmt"
	"reflect"
	"testing"
)

func TestMemberBatches(t *testing.T) {
	ids := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%03d", prefix, i)
		}
		return out
	}
	tests := []struct {
		name         string
		want, pushed []string
		max          int
		sizes        []int // member changes per batch
		adds         int   // batches that add
	}{
		{name: "nothing", want: []string{"a"}, pushed: []string{"a"}, max: 100},
		{name: "250 new members, aws limit", want: ids("u", 250), max: 100, sizes: []int{100, 100, 50}, adds: 3},
		{name: "adds then removes", want: []string{"a", "b", "c"}, pushed: []string{"c", "d", "e"}, max: 100, sizes: []int{2, 2}, adds: 1},
		{name: "no bound", want: ids("u", 250), max: 0, sizes: []int{250}, adds: 1},
		{name: "duplicates counted once", want: []string{"a", "a", "b"}, max: 1, sizes: []int{1, 1}, adds: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diffMembers(tt.want, tt.pushed)
			target := map[string]string{}
			for _, id := range append(append([]string{}, d.add...), d.remove...) {
				target[id] = "t-" + id
			}
			batches := memberBatches(d, tt.max, target)
			var sizes []int
			adds := 0
			for _, b := range batches {
				n := len(b.add) + len(b.remove)
				sizes = append(sizes, n)
				if len(b.add) > 0 {
					adds++
					values := b.ops[0].Value.([]any)
					if len(b.ops) != 1 || b.ops[0].Op != "add" || len(values) != n {
						t.Errorf("add batch ops %+v", b.ops)
					}
					if got := values[0].(map[string]any)["value"]; got != "t-"+b.add[0] {
						t.Errorf("add value %v, want the target id of %s", got, b.add[0])
					}
				} else if len(b.ops) != n || b.ops[0].Path != `members[value eq "t-`+b.remove[0]+`"]` {
					t.Errorf("remove batch ops %+v", b.ops)
				}
			}
			if !reflect.DeepEqual(sizes, tt.sizes) || adds != tt.adds {
				t.Errorf("batch sizes %v (%d adding), want %v (%d)", sizes, adds, tt.sizes, tt.adds)
			}
		})
	}
}

func TestEscapeFilterString(t *testing.T) {
	if got := escapeFilterString(`a"b\c`); got != `a\"b\\c` {
		t.Errorf("got %s", got)
	}
}
