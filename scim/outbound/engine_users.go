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
	p.indexRetries()
	return nil
}

// viewQuery is a query whose pages a run pushes; retry marks the
// queries of retried objects, which later queries skip.
type viewQuery struct {
	storage.Query
	retry bool
}

// viewQueries are the queries whose pages a run pushes: the whole view
// (full runs), or the retries and what changed since the watermark.
func (p *push) viewQueries(kind string) []viewQuery {
	base := storage.Query{View: p.app.ID, Limit: p.e.opts.PageSize, NoTotal: true}
	if p.full {
		return []viewQuery{{Query: base}}
	}
	var qs []viewQuery
	retry := p.retry[kind]
	for len(retry) > 0 {
		n := min(len(retry), p.e.opts.PageSize)
		q := base
		q.Filter = storage.In{Attr: storage.AttrID, Values: slices.Clone(retry[:n])}
		qs = append(qs, viewQuery{Query: q, retry: true})
		retry = retry[n:]
	}
	changed := base
	changed.Filter = storage.Compare{Attr: storage.AttrLastModified, Op: storage.OpGt, Value: p.since}
	return append(qs, viewQuery{Query: changed})
}

// skip reports whether a query's object was pushed already, by a
// retry query of this run.
func (p *push) skip(vq viewQuery, kind, id string) bool {
	return !vq.retry && p.retried[kind][id]
}

// indexRetries indexes the retried ids, once collected.
func (p *push) indexRetries() {
	p.retried = map[string]map[string]bool{}
	for kind, ids := range p.retry {
		set := make(map[string]bool, len(ids))
		for _, id := range ids {
			set[id] = true
		}
		p.retried[kind] = set
	}
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
				if p.skip(vq, storage.MemberUser, d.ID) {
					continue
				}
				b, err := p.r.user(d)
				if err != nil {
					return err
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
