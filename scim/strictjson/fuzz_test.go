package strictjson

import (
	"errors"
	"testing"
)

// FuzzDecodeBody checks that Check never panics and accepts exactly what
// encoding/json accepts as one value, minus invalid UTF-8, duplicate keys
// and nesting past the bound (a small bound here, so the fuzzer reaches it).
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]}]}`,
		`{"userName":"a","USERNAME":"b"}`, `{"a":1}x`, `[[[[[[]]]]]]`, `{"\u0041":1,"a":2}`,
		`-0.5e+10`, `"\ud800"`, "\"\xff\"", `{"a":{"b":[1,2,{"c":null}]}}`, `{"k":1,"K":2}`,
	} {
		f.Add([]byte(s))
	}
	const depth = 5
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data, depth)
		want := reference(data, depth)
		var e *Error
		switch {
		case err == nil && want != 0:
			t.Fatalf("Check accepted %q; the reference refuses it (kind %d)", data, want)
		case err != nil && !errors.As(err, &e):
			t.Fatalf("Check(%q) = %v, not an *Error", data, err)
		case err != nil && want == 0:
			t.Fatalf("Check refused %q (%v); the reference accepts it", data, err)
		case err != nil && want != Syntax && e.Kind == Syntax:
			// With several faults either side may report another first;
			// but a body encoding/json parses has no syntax error.
			t.Fatalf("Check(%q) = %v, a syntax error; encoding/json parses it (kind %d)", data, err, want)
		}
	})
}
