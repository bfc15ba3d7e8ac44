package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name string
		body string
		want Kind // 0: accepted
	}{
		{"object", `{"userName":"a","emails":[{"value":"x","primary":true}],"n":-1.5e+3}`, 0},
		{"surrounding whitespace", " \t\r\n{}\n ", 0},
		{"scalar", `"x"`, 0},
		{"empty containers", `{"a":[],"b":{},"c":[[],{}]}`, 0},
		{"same key in sibling objects", `[{"a":1},{"a":2}]`, 0},
		{"same key at two levels", `{"a":{"a":1}}`, 0},
		{"trailing garbage", `{"userName":"a"}garbage`, Syntax},
		{"two values", `{} {}`, Syntax},
		{"trailing comma", `{"a":1,}`, Syntax},
		{"empty body", ``, Syntax},
		{"leading zero", `01`, Syntax},
		{"unterminated", `{"a":"b`, Syntax},
		{"raw control character", "\"a\x01\"", Syntax},
		{"bad escape", `"\x"`, Syntax},
		{"duplicate top-level key", `{"userName":"a","userName":"b"}`, Duplicate},
		{"duplicate key, case variant", `{"userName":"a","USERNAME":"b"}`, Duplicate},
		{"duplicate nested key", `{"name":{"givenName":"a","givenname":"b"}}`, Duplicate},
		{"duplicate key in an array element", `{"Operations":[{"op":"add","OP":"remove"}]}`, Duplicate},
		{"duplicate key spelled with an escape", `{"id":1,"\u0069d":2}`, Duplicate},
		{"duplicate key, Kelvin sign", "{\"k\":1,\"\u212a\":2}", Duplicate},
		{"duplicate key in a wide object", wide(40) + `,"K03":0}`, Duplicate},
		{"wide object", wide(40) + `}`, 0},
		{"at the depth bound", deep(DefaultMaxDepth), 0},
		{"past the depth bound", deep(DefaultMaxDepth + 1), TooDeep},
		{"very deep", deep(100_000), TooDeep},
		{"invalid UTF-8 in a string", "{\"userName\":\"a\xff\"}", BadUTF8},
		{"invalid UTF-8 in a key", "{\"a\xc3\":1}", BadUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.body), DefaultMaxDepth)
			var e *Error
			switch {
			case tt.want == 0 && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case tt.want != 0 && (!errors.As(err, &e) || e.Kind != tt.want):
				t.Fatalf("Check = %v, want kind %d", err, tt.want)
			}
		})
	}
}

func wide(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + string(rune('0'+i/10)) + string(rune('0'+i%10)) + `":0`)
	}
	return b.String()
}

// reference decides the same question with encoding/json: json.Valid for
// syntax, utf8.Valid for the encoding, and the decoder's token stream for
// keys (compared with strings.EqualFold) and depth.
func reference(data []byte, maxDepth int) Kind {
	if !json.Valid(data) {
		return Syntax
	}
	if !utf8.Valid(data) {
		return BadUTF8
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	type obj struct {
		object bool
		keys   []string
		key    bool // the next string token is a key
	}
	var stack []*obj
	for {
		tok, err := d.Token()
		if err != nil {
			return 0
		}
		var top *obj
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.key {
			for _, k := range top.keys {
				if strings.EqualFold(k, s) {
					return Duplicate
				}
			}
			top.keys = append(top.keys, s)
			top.key = false
			continue
		}
		if top != nil && top.object {
			top.key = true // a value was read; next is a key
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxDepth {
				return TooDeep
			}
			stack = append(stack, &obj{object: tok == json.Delim('{'), key: true})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[`)
	for i := range 20_000 {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString(`{"value":"0f8a1c2e-4b6d-4e8f-9a0b-1c2d3e4f5a6b","type":"User"}`)
	}
	buf.WriteString(`]}]}`)
	body := buf.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(body, DefaultMaxDepth); err != nil {
			b.Fatal(err)
		}
	}
}
