package outbound

import (
	"context"
	"fmt"
	"slices"

	"github.com/scimgate/scimgate/storage"
)

// collectRetries notes the objects a previous run left failed or still
// creating: an incremental run takes them up again, though the view has
// not changed them since.
func (p *push) collectRetries(ctx context.Context) error {
	for _, kind := range []string{storage.MemberUser, storage.MemberGroup} {
		err := p.e.store.EachPushObject(ctx, p.app.ID, kind, func(o storage.PushObject) error {
			if o.Error != "" || o.State == storage.PushCreating {
				p.retry[kind] = append(p.retry[kind], o.LocalID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read push bookkeeping: %w", err)
		}
	}
	return nil
}

// viewQuery is a query whose pages a run pushes.
type viewQuery struct {
	storage.Query
}

// viewQueries are the queries whose pages a run pushes: the whole view
// (full runs), or the retries and what changed since the watermark.
func (p *push) viewQueries(kind string) []viewQuery {
	base := storage.Query{View: p.app.ID, Limit: p.e.opts.PageSize, NoTotal: true}
	if p.full {
		return []viewQuery{{Query: base}}
	}
	qs := p.byIDs(p.retry[kind])
	changed := base
	changed.Filter = storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: p.since}
	return append(qs, viewQuery{Query: changed})
}

// skip reports whether an incremental run pushed the object already (an
// object can match several of its queries), and notes it pushed when not.
// What it holds grows with the changes, not with the view.
func (p *push) skip(kind, id string) bool {
	if p.full {
		return false
	}
	if p.done[kind] == nil {
		p.done[kind] = map[string]bool{}
	}
	if p.done[kind][id] {
		return true
	}
	p.done[kind][id] = true
	return false
}

// byIDs are view queries of the objects with the given ids.
func (p *push) byIDs(ids []string) []viewQuery {
	var qs []viewQuery
	for len(ids) > 0 {
		n := min(len(ids), p.e.opts.PageSize)
		qs = append(qs, viewQuery{Query: storage.Query{View: p.app.ID, Limit: p.e.opts.PageSize, NoTotal: true,
			Filter: storage.In{Attr: storage.AttrID, Values: slices.Clone(ids[:n])}}})
		ids = ids[n:]
	}
	return qs
}

// pushUsers pushes the users of the view, a page at a time.
func (p *push) pushUsers(ctx context.Context) error {
	for _, vq := range p.viewQueries(storage.MemberUser) {
		q := vq.Query
		for {
			page, err := p.e.store.ListUsers(ctx, q)
			if err != nil {
				return fmt.Errorf("read the view's users: %w", err)
			}
			items := make([]item, 0, len(page.Users))
			for _, d := range page.Users {
				if p.skip(storage.MemberUser, d.ID) {
					continue
				}
				if !p.full {
					p.touched = append(p.touched, d.ID)
				}
				b, err := p.r.user(d)
				if err != nil {
					p.renderError(storage.MemberUser, d.ID, err)
					continue
				}
				it, err := newItem(storage.MemberUser, d.ID, b)
				if err != nil {
					return fmt.Errorf("user %s: %w", d.ID, err)
				}
				it.departed = d.Departed
				items = append(items, it)
			}
			if len(items) > 0 {
				if _, err := p.pushItems(ctx, storage.MemberUser, items); err != nil {
					return err
				}
			}
			if !page.Bounds.More || len(page.Users) == 0 {
				break
			}
			last := page.Bounds.Last
			q.After = &last
		}
	}
	return nil
}
