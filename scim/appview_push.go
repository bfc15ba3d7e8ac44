package scim

import (
	"bytes"
	"fmt"

	"github.com/scimgate/scimgate/storage"
)

// AppUserRenderer renders users as an app's readers see them, for the
// outbound push, which sends the same attributes to the app's own
// endpoint.
type AppUserRenderer struct{ view *appView }

// NewAppUserRenderer derives the renderer of app's allow-list. The error
// means the stored allow-list no longer fits the schema.
func NewAppUserRenderer(app storage.App) (*AppUserRenderer, error) {
	v, err := newAppView(app)
	if err != nil {
		return nil, err
	}
	return &AppUserRenderer{view: v}, nil
}

// Attributes returns the JSON object of d's attributes the app may see,
// without id, schemas or meta; a departed user's active is false when the
// app may see active.
func (r *AppUserRenderer) Attributes(d storage.UserDoc) ([]byte, error) {
	if r.view.allow == nil && !d.Departed {
		return append([]byte(nil), d.JSON...), nil
	}
	var b bytes.Buffer
	if _, err := r.view.appendUserAttrs(&b, d.JSON, d.Departed); err != nil {
		return nil, fmt.Errorf("scim: render user %s: %w", d.ID, err)
	}
	if b.Len() == 0 {
		return []byte("{}"), nil
	}
	// Each member was written after a comma; the first opens the object.
	out := b.Bytes()
	out[0] = '{'
	return append(out, '}'), nil
}
