package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/scimgate/scimgate/storage"
)

// Identity linking's bookkeeping (storage/link.go): where a person comes
// from, and splitting one source's contribution off by hand.

// provenanceJSON is GET /api/v1/users/{id}/provenance: the store's
// Provenance with each source's name beside its id.
type provenanceJSON struct {
	ID            string                         `json:"id"`
	Contributions []contributionJSON             `json:"contributions"`
	Attributes    map[string]attributeOriginJSON `json:"attributes"`
}

type contributionJSON struct {
	Source      string     `json:"source"`
	SourceName  string     `json:"sourceName"`
	SourceKey   string     `json:"sourceKey"`
	LinkedBy    string     `json:"linkedBy,omitempty"`
	Deactivated *time.Time `json:"deactivated,omitempty"`
}

// attributeOriginJSON names the source an attribute came from.
type attributeOriginJSON struct {
	Source     string `json:"source"`
	SourceName string `json:"sourceName"`
}

// unlinkInput is POST /api/v1/users/{id}/unlink's body.
type unlinkInput struct {
	// Source is the contributing source, by id or name.
	Source string `json:"source"`
}

// unlinkedJSON is the person an unlink made.
type unlinkedJSON struct {
	ID         string `json:"id"`
	UserName   string `json:"userName"`
	Source     string `json:"source"`
	SourceName string `json:"sourceName"`
	From       string `json:"unlinkedFrom"`
}

func (s *Server) routesLinks(g *echo.Group) {
	g.GET("/users/:id/provenance", s.handle(s.getProvenance))
	g.POST("/users/:id/unlink", s.handle(s.unlinkUser))
}

func (s *Server) getProvenance(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	p, err := s.cfg.Store.Provenance(ctx, id)
	if err != nil {
		return notFoundAs(err, "user "+id)
	}
	names := s.owners()
	v := provenanceJSON{ID: p.UserID, Contributions: []contributionJSON{}, Attributes: map[string]attributeOriginJSON{}}
	for _, ci := range p.Contributions {
		name, err := names.sourceName(ctx, ci.Source)
		if err != nil {
			return err
		}
		v.Contributions = append(v.Contributions, contributionJSON{Source: ci.Source, SourceName: name,
			SourceKey: ci.Key, LinkedBy: ci.LinkedBy, Deactivated: optTime(ci.Deactivated)})
	}
	for attr, src := range p.Attributes {
		name, err := names.sourceName(ctx, src)
		if err != nil {
			return err
		}
		v.Attributes[attr] = attributeOriginJSON{Source: src, SourceName: name}
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) unlinkUser(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	var in unlinkInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Source = strings.TrimSpace(in.Source); in.Source == "" {
		return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Message: "name the source to split off: {\"source\": \"<id or name>\"}",
			Fields: map[string]string{"source": "required: the id or name of a source that contributes to the user"}}
	}
	p, err := s.cfg.Store.Provenance(ctx, id)
	if err != nil {
		return notFoundAs(err, "user "+id)
	}
	src, err := s.sourceByIDOrName(ctx, in.Source)
	if err != nil {
		return err
	}
	contributes := slices.ContainsFunc(p.Contributions, func(ci storage.ContributionInfo) bool { return ci.Source == src.ID })
	switch {
	case !contributes:
		return errNotFound("a contribution of source " + src.Name + " to user " + id)
	case len(p.Contributions) == 1:
		return &apiError{Status: http.StatusConflict, Code: "conflict",
			Message: "source " + src.Name + " is the only source of user " + id + "; there is nothing to split it from"}
	}
	u, err := s.cfg.Store.Unlink(ctx, id, src.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound("a contribution of source " + src.Name + " to user " + id)
	case errors.Is(err, storage.ErrConflict):
		// The store refuses a split whose two people would share a
		// userName; which one it is depends on the merge, so say what to do.
		return &apiError{Status: http.StatusConflict, Code: "conflict",
			Message: "splitting source " + src.Name + " off user " + id + " would leave two users with one userName; " +
				"give that source's records another userName (its mapping) first"}
	case err != nil:
		return err
	}
	s.audit(c, "user.unlink", id, "source="+src.ID+" sourceName="+src.Name+" new="+u.ID)
	return c.JSON(http.StatusOK, unlinkedJSON{ID: u.ID, UserName: u.UserName, Source: src.ID, SourceName: src.Name, From: id})
}

// sourceByIDOrName finds a source by its id, else its name.
func (s *Server) sourceByIDOrName(ctx context.Context, ref string) (storage.Source, error) {
	srcs, err := s.cfg.Store.ListSources(ctx)
	if err != nil {
		return storage.Source{}, err
	}
	for _, match := range []func(storage.Source) bool{
		func(src storage.Source) bool { return src.ID == ref },
		func(src storage.Source) bool { return src.Name == ref },
	} {
		if i := slices.IndexFunc(srcs, match); i >= 0 {
			return srcs[i], nil
		}
	}
	return storage.Source{}, errNotFound("source " + ref)
}

// sourceName names what Provenance calls a source: a source's id, or the
// owner tag of a user no source contributes to (a push client's).
func (o *owners) sourceName(ctx context.Context, ref string) (string, error) {
	tag := ref
	if !strings.Contains(ref, ":") {
		tag = storage.SourceOwnerPrefix + ref
	}
	v, err := o.of(ctx, tag)
	if err != nil {
		return "", err
	}
	return v.Name, nil
}
