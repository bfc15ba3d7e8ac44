package scim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	scimerr "github.com/elimity-com/scim/errors"

	"github.com/scimgate/scimgate/scim/strictjson"
)

// Limits on request bodies, checked before anything parses them further
// (README, "Limits").
const (
	// DefaultMaxPatchOperations caps the operations of one PATCH. Okta and
	// Entra ID send membership changes in requests of at most a few hundred
	// members, each request one or a few operations; a thousand
	// operations is far beyond any client seen, and the cap keeps one
	// request's cost bounded.
	DefaultMaxPatchOperations = 1000
	// maxPatchPathLen bounds a PATCH path (and a key of a path-less value,
	// which is a path too) in bytes: the longest path a client replay
	// sends is about 100 bytes; 4,096 leaves room for a filtered remove of
	// a hundred members by id.
	maxPatchPathLen = 4096
	// maxPatchPathNesting bounds the brackets and parentheses nested in a
	// path's value filter, before the recursive filter parser sees it.
	maxPatchPathNesting = 8
)

// checkBody refuses a body that is not exactly one JSON value with unique
// keys, valid UTF-8 and bounded nesting (scim/strictjson).
func checkBody(body []byte) error {
	err := strictjson.Check(body, strictjson.DefaultMaxDepth)
	if err == nil {
		return nil
	}
	// Bytes that are not UTF-8 sit inside a value (a userName, say): the
	// issue of identity is the value's, so it is invalidValue, as for a
	// control character; every other fault is the body's syntax.
	var bad *strictjson.Error
	if errors.As(err, &bad) && bad.Kind == strictjson.BadUTF8 {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidValue, "the request body is not valid UTF-8: "+err.Error())
	}
	return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidSyntax, "the request body is not acceptable JSON: "+err.Error())
}

// checkPatchOps applies the operation cap and the path bounds to the
// decoded operations of a PatchOp body.
func checkPatchOps(ops []any, maxOps int) error {
	if len(ops) > maxOps {
		return Error(http.StatusBadRequest, scimerr.ScimTypeTooMany,
			fmt.Sprintf("a PATCH may carry at most %d operations, this one has %d; split it into several requests", maxOps, len(ops)))
	}
	for _, raw := range ops {
		op, ok := raw.(map[string]any)
		if !ok {
			continue // the library reports the malformed operation
		}
		for k, v := range op {
			switch {
			case strings.EqualFold(k, "path"):
				if p, ok := v.(string); ok {
					if err := checkPatchPath(p); err != nil {
						return err
					}
				}
			case strings.EqualFold(k, "value"):
				if err := checkPathlessKeys(v, 0); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkPathlessKeys checks the keys of a path-less value (and of the
// extension objects in it), which are parsed as paths.
func checkPathlessKeys(v any, level int) error {
	m, ok := v.(map[string]any)
	if !ok || level > 1 {
		return nil
	}
	for k, inner := range m {
		if err := checkPatchPath(k); err != nil {
			return err
		}
		if err := checkPathlessKeys(inner, level+1); err != nil {
			return err
		}
	}
	return nil
}

// checkPatchPath bounds the length of a path and the nesting of its value
// filter, counting brackets and parentheses outside quoted strings.
func checkPatchPath(p string) error {
	if len(p) > maxPatchPathLen {
		return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidPath,
			fmt.Sprintf("a PATCH path may be at most %d bytes long, this one has %d", maxPatchPathLen, len(p)))
	}
	depth, quoted := 0, false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '[':
			if depth++; depth > maxPatchPathNesting {
				return Error(http.StatusBadRequest, scimerr.ScimTypeInvalidPath,
					fmt.Sprintf("a PATCH path may nest brackets and parentheses at most %d levels deep", maxPatchPathNesting))
			}
		case c == ')' || c == ']':
			depth--
		}
	}
	return nil
}
