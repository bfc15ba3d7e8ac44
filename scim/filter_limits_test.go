package scim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"

	"github.com/scimgate/scimgate/storage"
)

// BenchmarkCompileLongFilter: what the SCIM layer spends on a 1,000-term
// id eq chain before the store sees it (limits scan, parse, validation,
// translation), against one id eq term in the same run. "new" filters
// find the shape cache empty (the parser runs on the text with its string
// literals emptied); "new-literals-parsed" has the parser read the literals
// too, as before; "repeated" ones hit the cache.
//
//	go test -run '^$' -bench CompileLongFilter ./scim
func BenchmarkCompileLongFilter(b *testing.B) {
	chain := func(n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf(`id eq "00000000-0000-4000-8000-%012d"`, i)
		}
		return strings.Join(terms, " or ")
	}
	for _, n := range []int{1, 1000} {
		f := chain(n)
		b.Run(fmt.Sprintf("%d-terms/new", n), func(b *testing.B) {
			fc := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
			for b.Loop() {
				fc.cache = map[string]fp.Expression{} // no cache hit
				if _, err := fc.compile(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d-terms/new-literals-parsed", n), func(b *testing.B) {
			fc := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
			for b.Loop() {
				if _, err := compileRaw(fc, f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%d-terms/repeated", n), func(b *testing.B) {
			fc := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
			for b.Loop() {
				if _, err := fc.compile(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// compileRaw is compile without the blanked-literal parse: the library
// parses the text as it is.
func compileRaw(fc *filterCompiler, raw string) (any, error) {
	ast, err := fc.parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	return fc.translate(ast, nil)
}

var literalSeeds = []string{
	"userName eq \"a\xffb\"", "userName eq \"a\tb\"", "userName eq \"a\x00b\"", `userName eq "a\qb"`,
	`userName eq "a\u00e9b"`, `userName eq "a\u00E9b"`, `userName eq "a\u00E"`, "userName eq \"a\x7fb\"",
	`userName eq ""`, `userName eq "x" and title eq ""`, `userName eq "a\"b" or userName eq "c\\"`,
	`userName eq "a\/\b\f\n\r\t"`, `emails[type eq "work" and value co "@"]`, `meta.created gt "2026-01-02T03:04:05Z"`,
	`meta.created gt "yesterday"`, `title eq "a" or title eq 5`, `active eq true and userName sw "\\"`,
}

// TestBlankedParseAgrees: parsing a filter with its literals emptied and
// binding them afterwards accepts and builds exactly what parsing the
// text as it is does.
func TestBlankedParseAgrees(t *testing.T) {
	for _, raw := range append(literalSeeds, fuzzFilterSeeds...) {
		checkBlankedParse(t, raw)
	}
}

func FuzzBlankedParse(f *testing.F) {
	for _, s := range append(literalSeeds, fuzzFilterSeeds...) {
		f.Add(s)
	}
	f.Fuzz(checkBlankedParse)
}

func checkBlankedParse(t *testing.T, raw string) {
	if strings.TrimSpace(raw) == "" || storage.CheckFilterText(raw) != nil {
		return
	}
	fc := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
	got, err := fc.compile(raw)
	want, wantErr := compileRaw(fc, raw)
	if (err == nil) != (wantErr == nil) || err == nil && !reflect.DeepEqual(any(got), want) {
		t.Fatalf("%q: compiled to %#v (%v), parsed as it is to %#v (%v)", raw, got, err, want, wantErr)
	}
}

// TestShapeCacheBytes: long shapes cannot make the cache hold more than
// maxCacheBytes (4,096 shapes of 64 KiB would be 256 MiB).
func TestShapeCacheBytes(t *testing.T) {
	fc := newFilterCompiler(&userAttrs, schema.CoreUserSchema(), schema.ExtensionEnterpriseUser())
	const shapes, spaces = 250, 40_000 // 10 MB of shapes in all
	if _, err := fc.compile(`title eq "x" or title eq "y"`); err != nil {
		t.Fatalf("compile: %v", err)
	}
	ast := fc.cache[`title eq "\x00" or title eq "\x00"`]
	if ast == nil {
		t.Fatalf("the shape is not cached: %v", fc.cache)
	}
	for i := range shapes {
		// What compile remembers for title eq "x" or<spaces>title eq "y".
		fc.remember(`title eq "\x00" or`+strings.Repeat(" ", spaces+i)+`title eq "\x00"`, ast)
		if fc.cacheBytes > maxCacheBytes {
			t.Fatalf("after %d shapes the cache holds %d bytes; the bound is %d", i+1, fc.cacheBytes, maxCacheBytes)
		}
	}
	total := 0
	for shape := range fc.cache {
		total += len(shape)
	}
	if total != fc.cacheBytes || len(fc.cache) >= shapes {
		t.Errorf("cache: %d shapes, %d bytes, counted %d", len(fc.cache), total, fc.cacheBytes)
	}
}
