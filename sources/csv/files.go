package csv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits on what one source file may cost: a file is re-read on every run,
// so without them a path such as /dev/zero grows the server until the
// kernel kills it.
const (
	// MaxLineBytes is the longest line a CSV file may have: 1 MiB holds a
	// group row whose members column lists about 28,000 ids.
	MaxLineBytes = 1 << 20
	// MaxFileBytes is the largest file a source may name.
	MaxFileBytes = 1 << 30
)

// Dirs are the directories csv files must be inside, absolute and with
// symlinks resolved. Nil means no confinement (tests and library callers
// that pick their own paths); the scimgate binary always passes some.
type Dirs []string

// ResolveDirs makes each directory absolute and resolves its symlinks, so
// a file's resolved path can be compared with it. A directory that does not
// exist is kept by its absolute path: it may be created later.
func ResolveDirs(dirs []string) (Dirs, error) {
	out := make(Dirs, 0, len(dirs))
	for _, d := range dirs {
		if strings.TrimSpace(d) == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("csv directory %s: %w", d, err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		out = append(out, abs)
	}
	return out, nil
}

// contains says whether the resolved path is inside one of the dirs.
func (d Dirs) contains(resolved string) bool {
	for _, dir := range d {
		rel, err := filepath.Rel(dir, resolved)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}

func (d Dirs) String() string { return strings.Join(d, ", ") }

// hidden says whether the resolved path, inside one of the dirs, has a
// component below that directory whose name starts with a dot (.env,
// .ssh/id_ed25519, .git/config): files nobody keeps a directory for.
func (d Dirs) hidden(resolved string) bool {
	for _, dir := range d {
		rel, err := filepath.Rel(dir, resolved)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		for _, part := range strings.Split(rel, string(filepath.Separator)) {
			if strings.HasPrefix(part, ".") && part != "." {
				return true
			}
		}
		return false
	}
	return false
}

// Confinement is which files csv sources may read: regular files inside
// dirs (nil: anywhere), not hidden ones there, and none of private.
type Confinement struct {
	dirs    Dirs
	private []string
}

// isPrivate says whether fi is one of the server's own files. They are
// stat'ed on every check, as they may be created after the kind is built.
func (c Confinement) isPrivate(fi fs.FileInfo) bool {
	for _, p := range c.private {
		if pfi, err := os.Stat(p); err == nil && os.SameFile(fi, pfi) {
			return true
		}
	}
	return false
}

// refusal explains why a regular file at resolved may not be read, or
// returns "".
func (c Confinement) refusal(resolved string, fi fs.FileInfo) string {
	switch {
	case c.dirs != nil && c.dirs.hidden(resolved):
		return "is a hidden file (a name starting with a dot); csv sources do not read hidden files"
	case fi != nil && c.isPrivate(fi):
		return "is one of scimgate's own files (its database or a key); csv sources may not read it"
	}
	return ""
}

// check explains why path may not be read, or returns "" (also when the
// file does not exist yet: it may be written after the source is set up,
// and the run checks again).
func (c Confinement) check(path string) string {
	if c.dirs == nil && len(c.private) == 0 {
		return ""
	}
	resolved, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		resolved = filepath.Clean(path)
	} else if err != nil {
		return "cannot be resolved: " + err.Error()
	}
	if c.dirs != nil && !c.dirs.contains(resolved) {
		return fmt.Sprintf("must be inside the csv directories the server allows (%s; set with --csv-dir or SCIMGATE_CSV_DIRS)", c.dirs)
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		fi = nil
	} else if !fi.Mode().IsRegular() {
		return "is not a regular file"
	}
	return c.refusal(resolved, fi)
}

// open opens a source file: inside the allowed dirs after symlinks are
// resolved, not hidden and not one of the server's own, a regular file
// (both checked on the opened descriptor, so the path cannot be swapped
// between check and open) and at most MaxFileBytes. The reader it returns
// stops at MaxFileBytes too, for a file that grows.
func (c Confinement) open(path string) (io.ReadCloser, error) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, describeOpenError(path, err)
	}
	if c.dirs != nil && !c.dirs.contains(resolved) {
		return nil, fmt.Errorf("csv: %s is outside the csv directories the server allows (%s)", path, c.dirs)
	}
	f, err := os.Open(resolved)
	if err != nil {
		return nil, describeOpenError(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("csv: stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("csv: %s is not a regular file", path)
	}
	if why := c.refusal(resolved, fi); why != "" {
		f.Close()
		return nil, fmt.Errorf("csv: %s %s", path, why)
	}
	if fi.Size() > MaxFileBytes {
		f.Close()
		return nil, fmt.Errorf("csv: %s is %d bytes, more than the %d a source file may have", path, fi.Size(), MaxFileBytes)
	}
	return &limitedFile{f: f, r: &sizeLimit{r: f, left: MaxFileBytes, path: path}}, nil
}

// describeOpenError says in words why path cannot be opened; the result
// still unwraps to err, so callers can tell fs.ErrNotExist from
// fs.ErrPermission.
func describeOpenError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &openError{fmt.Sprintf("csv: %s does not exist", path), err}
	case errors.Is(err, fs.ErrPermission):
		return &openError{fmt.Sprintf("csv: scimgate may not read %s (permission denied)", path), err}
	}
	return fmt.Errorf("csv: open %s: %w", path, err)
}

// openError is a file that cannot be opened, explained.
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

type limitedFile struct {
	f *os.File
	r io.Reader
}

func (l *limitedFile) Read(p []byte) (int, error) { return l.r.Read(p) }
func (l *limitedFile) Close() error               { return l.f.Close() }

// sizeLimit fails, rather than silently truncating, past its budget.
type sizeLimit struct {
	r    io.Reader
	left int64
	path string
}

func (s *sizeLimit) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, fmt.Errorf("csv: %s grew past the %d bytes a source file may have", s.path, MaxFileBytes)
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// ErrLineTooLong is returned (wrapped, with the line number) for a CSV line
// longer than MaxLineBytes.
var ErrLineTooLong = errors.New("line too long")

// lineLimit counts lines and fails on one longer than max bytes, before
// encoding/csv buffers it whole.
type lineLimit struct {
	r       io.Reader
	max     int
	line    int // current line, from 1
	lineLen int
	name    string
}

func newLineLimit(name string, r io.Reader, max int) *lineLimit {
	return &lineLimit{r: r, max: max, line: 1, name: name}
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			l.line++
			l.lineLen = 0
			continue
		}
		l.lineLen++
		if l.lineLen > l.max {
			return i, fmt.Errorf("csv: %s line %d: longer than %d bytes: %w", l.name, l.line, l.max, ErrLineTooLong)
		}
	}
	return n, err
}
