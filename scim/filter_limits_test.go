package scim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
	fp "github.com/scim2/filter-parser/v2"
)

// BenchmarkCompileLongFilter: what the SCIM layer spends on a 1,000-term
// id eq chain before the store sees it (limits scan, parse, validation,
// translation), against one id eq term in the same run. "new" filters
// find the shape cache empty (the parser runs); "repeated" ones hit it.
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
