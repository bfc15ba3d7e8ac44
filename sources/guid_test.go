package sources

import "testing"

func TestGUIDFilter(t *testing.T) {
	const want = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	raw := string([]byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01})
	tests := []struct{ name, in, want string }{
		{"canonical", want, want},
		{"upper case with braces", "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}", want},
		{"no dashes", "3f2504e04f8911d39a0c0305e82c3301", want},
		{"Entra's onPremisesImmutableId (base64 of the binary form)", "4AQlP4lP0xGaDAMF6CwzAQ==", want},
		{"base64 unpadded, URL alphabet", "4AQlP4lP0xGaDAMF6CwzAQ", want},
		{"raw bytes", raw, want},
		{"spaces around", "  4AQlP4lP0xGaDAMF6CwzAQ==  ", want},
		{"empty", "", ""},
		{"not a GUID", "ann@example.com", ""},
		{"base64 of the wrong length", "aGVsbG8=", ""},
		{"hex with a bad digit", "3f2504e0-4f89-11d3-9a0c-0305e82c330g", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canonicalGUID(tt.in); got != tt.want {
				t.Errorf("guid(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	// Through a mapping, as a source would write it.
	tpl, err := compileTemplate("{onPremisesImmutableId|guid}")
	if err != nil {
		t.Fatal(err)
	}
	if got := tpl[0].filter("4AQlP4lP0xGaDAMF6CwzAQ=="); got != want {
		t.Errorf("the guid filter in a template gives %q", got)
	}
}
