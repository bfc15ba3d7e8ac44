package api

import (
	"context"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/storage"
)

// ownerJSON says who owns a user or group: a pull source, or a push
// client (a writer token writing through /scim/v2).
type ownerJSON struct {
	// Kind is "source", "client", or "other" for a tag neither has
	// written (the tag is then both id and name).
	Kind string `json:"kind"`
	// ID is the source's id or the client's token id; empty for a client
	// whose token was revoked (its resources keep its name).
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Owner kinds of ownerJSON.
const (
	ownerSource = "source"
	ownerClient = "client"
	ownerOther  = "other"
)

// owners names ownership tags, reading the sources and tokens once per
// request however many tags it is asked about.
type owners struct {
	store  storage.Store
	loaded bool
	srcs   []storage.Source
	toks   []storage.Token
}

func (s *Server) owners() *owners { return &owners{store: s.cfg.Store} }

func (o *owners) load(ctx context.Context) error {
	if o.loaded {
		return nil
	}
	var err error
	if o.srcs, err = o.store.ListSources(ctx); err != nil {
		return fmt.Errorf("list sources: %w", err)
	}
	if o.toks, err = o.store.ListTokens(ctx); err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	o.loaded = true
	return nil
}

// of names the owner tag.
func (o *owners) of(ctx context.Context, tag string) (ownerJSON, error) {
	if err := o.load(ctx); err != nil {
		return ownerJSON{}, err
	}
	if id, ok := strings.CutPrefix(tag, storage.SourceOwnerPrefix); ok {
		v := ownerJSON{Kind: ownerSource, ID: id}
		for _, src := range o.srcs {
			if src.Owner() == tag {
				v.Name = src.Name
			}
		}
		return v, nil
	}
	if name, ok := strings.CutPrefix(tag, storage.ClientOwnerPrefix); ok {
		v := ownerJSON{Kind: ownerClient, Name: name}
		for _, tok := range o.toks {
			if tok.Owner() == tag {
				v.ID = tok.ID
			}
		}
		return v, nil
	}
	return ownerJSON{Kind: ownerOther, ID: tag, Name: tag}, nil
}
