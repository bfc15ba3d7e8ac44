package csv

import (
	"context"
	stdcsv "encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/scimgate/scimgate/sources"
)

// table reads rows of a CSV file by column name.
type table struct {
	name string
	r    *stdcsv.Reader
	cols map[string]int
}

// newTable reads the header. Errors name the file, lines and known column
// names only, never the file's text: the file may be one the admin should
// not see (the first line of /etc/shadow would otherwise be "unknown
// column").
func newTable(path string, rd io.Reader, allowed, required []string) (*table, error) {
	name := filepath.Base(path)
	r := stdcsv.NewReader(newLineLimit(name, rd, MaxLineBytes))
	r.FieldsPerRecord = -1 // row width is checked per row, as a row problem
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("csv: %s is empty; it needs a header row", path)
	}
	if err != nil {
		return nil, readError(name, err)
	}
	t := &table{name: name, r: r, cols: map[string]int{}}
	var unknown []string
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		canon := ""
		for _, a := range allowed {
			if strings.EqualFold(a, h) {
				canon = a
			}
		}
		if canon == "" {
			unknown = append(unknown, fmt.Sprint(i+1))
			continue
		}
		if _, dup := t.cols[canon]; dup {
			return nil, fmt.Errorf("csv: %s: column %s appears twice", path, canon)
		}
		t.cols[canon] = i
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("csv: %s line 1: header columns %s are not known columns; allowed: %s", name, strings.Join(unknown, ", "), strings.Join(allowed, ","))
	}
	var missing []string
	for _, req := range required {
		if _, ok := t.cols[req]; !ok {
			missing = append(missing, req)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("csv: %s: missing required columns %s", path, strings.Join(missing, ", "))
	}
	return t, nil
}

// next returns the next row as a map, its line, and a row problem (the
// row is then skipped). io.EOF ends the table; other errors are fatal.
func (t *table) next() (map[string]string, int, string, error) {
	rec, err := t.r.Read()
	if err == io.EOF {
		return nil, 0, "", io.EOF
	}
	var perr *stdcsv.ParseError
	if errors.As(err, &perr) && errors.Is(perr.Err, stdcsv.ErrFieldCount) {
		return nil, perr.Line, "wrong number of fields", nil
	}
	if err != nil {
		return nil, 0, "", readError(t.name, err)
	}
	line, _ := t.r.FieldPos(0)
	width := 0
	for _, i := range t.cols {
		width = max(width, i+1)
	}
	if len(rec) < width {
		return nil, line, fmt.Sprintf("%d fields, the header has %d", len(rec), width), nil
	}
	row := make(map[string]string, len(t.cols))
	for name, i := range t.cols {
		row[name] = strings.TrimSpace(rec[i])
	}
	return row, line, "", nil
}

// readError describes a read failure by position only: encoding/csv's
// ParseError carries line and column, not text; the limit errors are
// already complete.
func readError(name string, err error) error {
	var perr *stdcsv.ParseError
	switch {
	case errors.Is(err, ErrLineTooLong) || strings.HasPrefix(err.Error(), "csv: "):
		return err
	case errors.As(err, &perr):
		return fmt.Errorf("csv: %s line %d column %d: %w", name, perr.Line, perr.Column, perr.Err)
	}
	return fmt.Errorf("csv: %s: %w", name, err)
}

// jsonError describes a JSON failure by byte offset only (the decoder's own
// messages quote the offending character).
func jsonError(name string, element int, dec *json.Decoder, err error) error {
	if strings.HasPrefix(err.Error(), "csv: ") {
		return err
	}
	return fmt.Errorf("csv: %s: element %d is not a valid JSON object (near byte %d)", name, element, dec.InputOffset())
}

// opener opens a source file (csvSource.open).
type opener func(path string) (io.ReadCloser, error)

func checkHeader(open opener, path string, allowed, required []string) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if isJSON(path) {
		dec := json.NewDecoder(f)
		var probe []json.RawMessage
		if err := dec.Decode(&probe); err != nil {
			return fmt.Errorf("csv: %s is not a JSON array of objects (near byte %d)", path, dec.InputOffset())
		}
		return nil
	}
	_, err = newTable(path, f, allowed, required)
	return err
}

func isJSON(path string) bool { return strings.EqualFold(filepath.Ext(path), ".json") }

func readUsers(ctx context.Context, open opener, path string, out sources.Sink) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readUsersFrom(ctx, path, f, out)
}

// readUsersFrom reads an opened users file; path names it and chooses the
// format.
func readUsersFrom(ctx context.Context, path string, f io.Reader, out sources.Sink) error {
	if isJSON(path) {
		return readJSON(ctx, path, f, UserColumns, out, func(row map[string]string, _ []string) (any, string) {
			return userRecord(row)
		})
	}
	return readCSV(ctx, path, f, UserColumns, []string{"externalId", "userName"}, userRecord, out.Users, out)
}

// readCSV streams a CSV file's rows, built into records by build, to send
// in pages; rows build rejects are reported to out with their lines.
func readCSV[T any](ctx context.Context, path string, f io.Reader, allowed, required []string,
	build func(map[string]string) (T, string), send func(context.Context, []T) error, out sources.Sink) error {
	t, err := newTable(path, f, allowed, required)
	if err != nil {
		return err
	}
	page := make([]T, 0, pageSize)
	for {
		row, line, problem, err := t.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var rec T
		if problem == "" {
			rec, problem = build(row)
		}
		if problem != "" {
			if err := out.Problem(ctx, sources.Problem{Where: fmt.Sprintf("%s line %d", t.name, line), Message: problem}); err != nil {
				return err
			}
			continue
		}
		page = append(page, rec)
		if len(page) == pageSize {
			if err := send(ctx, page); err != nil {
				return err
			}
			page = page[:0]
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if len(page) > 0 {
		return send(ctx, page)
	}
	return nil
}

// userRecord checks one row; the string is the row's problem, if any.
func userRecord(row map[string]string) (sources.UserRecord, string) {
	if row["externalId"] == "" {
		return sources.UserRecord{}, "externalId is empty"
	}
	if row["userName"] == "" {
		return sources.UserRecord{}, "userName is empty"
	}
	switch strings.ToLower(row["active"]) {
	case "", "true", "false":
	default:
		return sources.UserRecord{}, "active must be true, false or empty"
	}
	return sources.UserRecord{Key: row["externalId"], Attrs: row}, ""
}

func readGroups(ctx context.Context, open opener, path string, out sources.Sink) error {
	f, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if isJSON(path) {
		return readJSON(ctx, path, f, GroupColumns, out, func(row map[string]string, members []string) (any, string) {
			return groupRecord(row, members)
		})
	}
	build := func(row map[string]string) (sources.GroupRecord, string) {
		return groupRecord(row, splitMembers(row["members"]))
	}
	return readCSV(ctx, path, f, GroupColumns, []string{"externalId", "displayName"}, build, out.Groups, out)
}

func splitMembers(s string) []string {
	var out []string
	for _, m := range strings.Split(s, ";") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

func groupRecord(row map[string]string, members []string) (sources.GroupRecord, string) {
	if row["externalId"] == "" {
		return sources.GroupRecord{}, "externalId is empty"
	}
	if row["displayName"] == "" {
		return sources.GroupRecord{}, "displayName is empty"
	}
	delete(row, "members")
	return sources.GroupRecord{Key: row["externalId"], Attrs: row, Members: members, MembersComplete: true}, ""
}

// readJSON streams an array of objects; each object's fields must be
// among allowed. Field values may be strings, booleans or numbers;
// "members" may be an array of strings.
func readJSON(ctx context.Context, path string, f io.Reader, allowed []string, out sources.Sink, build func(map[string]string, []string) (any, string)) error {
	dec := json.NewDecoder(f)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("csv: %s must hold a JSON array of objects", path)
	}
	name := filepath.Base(path)
	var users []sources.UserRecord
	var groups []sources.GroupRecord
	flush := func() error {
		if len(users) > 0 {
			if err := out.Users(ctx, users); err != nil {
				return err
			}
			users = users[:0]
		}
		if len(groups) > 0 {
			if err := out.Groups(ctx, groups); err != nil {
				return err
			}
			groups = groups[:0]
		}
		return nil
	}
	for i := 1; dec.More(); i++ {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return jsonError(filepath.Base(path), i, dec, err)
		}
		row := map[string]string{}
		var members []string
		problem := ""
		for k, v := range obj {
			canon := ""
			for _, a := range allowed {
				if strings.EqualFold(a, k) {
					canon = a
				}
			}
			if canon == "" {
				return fmt.Errorf("csv: %s: element %d has a field that is not known; allowed: %s", path, i, strings.Join(allowed, ","))
			}
			switch v := v.(type) {
			case string:
				if canon == "members" {
					members = splitMembers(v)
				} else {
					row[canon] = strings.TrimSpace(v)
				}
			case bool:
				row[canon] = fmt.Sprint(v)
			case float64:
				row[canon] = fmt.Sprint(v)
			case nil:
			case []any:
				if canon != "members" {
					problem = fmt.Sprintf("%s must not be a list", canon)
				}
				for _, m := range v {
					if s, ok := m.(string); ok && s != "" {
						members = append(members, s)
					}
				}
			default:
				problem = fmt.Sprintf("%s has an unsupported value", canon)
			}
		}
		var rec any
		if problem == "" {
			rec, problem = build(row, members)
		}
		if problem != "" {
			if err := out.Problem(ctx, sources.Problem{Where: fmt.Sprintf("%s element %d", name, i), Message: problem}); err != nil {
				return err
			}
			continue
		}
		switch r := rec.(type) {
		case sources.UserRecord:
			users = append(users, r)
		case sources.GroupRecord:
			groups = append(groups, r)
		}
		if len(users)+len(groups) >= pageSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("csv: %s: the JSON array does not end properly (near byte %d)", path, dec.InputOffset())
	}
	return flush()
}
