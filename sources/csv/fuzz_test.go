package csv

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/sources"
)

// canary is text no error message contains, planted in every input: if an
// error or row problem ever quotes the file, it shows.
const canary = "qzxjvk"

type problemSink struct{ msgs []string }

func (problemSink) Users(context.Context, []sources.UserRecord) error   { return nil }
func (problemSink) Groups(context.Context, []sources.GroupRecord) error { return nil }
func (problemSink) Deletions(context.Context, []sources.Deletion) error { return nil }
func (s *problemSink) Problem(_ context.Context, p sources.Problem) error {
	s.msgs = append(s.msgs, p.Where+": "+p.Message)
	return nil
}

// FuzzReadCSV: any users or groups file, CSV or JSON, is read without a
// panic, and no error or problem quotes it. Memory is bounded by the line
// limit (a line is the most encoding/csv buffers), checked by the fuzzer's
// own per-input memory accounting.
func FuzzReadCSV(f *testing.F) {
	for _, seed := range []string{
		"externalId,userName\ne1,a@x\n",
		"\ufeffexternalId,userName,active,manager\ne1,a@x,maybe,e2\ne2,,true,\n",
		"externalId,displayName,members\ng1,G,e1;e2\ng2,\"un\nterminated",
		"externalId,userName\ne1,b\"ad\n",
		"root:x:0:0::/root:/bin/sh\n",
		`[{"externalId":"e1","userName":"a@x","members":["x"]},{"bad":1}]`,
		`[{"externalId":`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, groups bool) {
		// The canary goes where content ends up in messages: the header, a
		// value, a JSON key.
		for _, in := range [][]byte{
			data,
			append([]byte(canary+","), data...),
			bytes.ReplaceAll(data, []byte("e"), []byte(canary)),
		} {
			for _, name := range []string{"f.csv", "f.json"} {
				sink := &problemSink{}
				var err error
				rd := newLineLimit(name, bytes.NewReader(in), 256) // a small line limit, so it is met
				if groups {
					if isJSON(name) {
						err = readJSON(context.Background(), name, rd, GroupColumns, sink, func(row map[string]string, m []string) (any, string) { return groupRecord(row, m) })
					} else {
						build := func(row map[string]string) (sources.GroupRecord, string) {
							return groupRecord(row, splitMembers(row["members"]))
						}
						err = readCSV(context.Background(), name, rd, GroupColumns, []string{"externalId", "displayName"}, build, sink.Groups, sink)
					}
				} else {
					err = readUsersFrom(context.Background(), name, rd, sink)
				}
				msgs := sink.msgs
				if err != nil {
					msgs = append(msgs, err.Error())
				}
				for _, m := range msgs {
					if strings.Contains(m, canary) {
						t.Fatalf("message quotes the file: %q", m)
					}
				}
			}
		}
	})
}
