package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL every write transaction also sends a notification on its
// schema's channel (in the statement that takes the write lock, so it
// costs no round trip; PostgreSQL delivers it only if the transaction
// commits). Each store listens on one connection of its own and counts
// what arrives, so ReadStamp answers from memory instead of asking the
// server for its snapshot on every cached read, which was a round trip
// per request to a database sharing the cores.
//
// What this gives up: a write committed by another replica reaches this
// replica's caches when its notification arrives (well under a
// millisecond on one host or a LAN), not at the instant of its commit.
// This replica's own writes count at once (the store's write counter is
// part of the stamp). The listener also sends itself a heartbeat every
// second; when nothing has been heard for staleAfter (a stalled
// connection looks alive), and while the connection is down, ReadStamp
// falls back to the server's snapshot, so a cache is never more than
// staleAfter behind another replica's commit. A new connection starts a
// new epoch: nothing cached before a gap is served after it.

// stampChannel is the SQL expression of the notification channel of the
// current schema (a digest, as channel names are bounded to 63 bytes).
const stampChannel = "'scimgate_' || md5(COALESCE(current_schema(), ''))"

// notifyWrite is the part of the write lock statement that notifies.
const notifyWrite = "pg_notify(" + stampChannel + ", '')"

// heartbeatEvery and staleAfter bound how far behind the notifications
// may fall before the stamp stops trusting them.
const (
	heartbeatEvery = time.Second
	staleAfter     = 3 * time.Second
	heartbeat      = "heartbeat"
)

// pgStamps counts the notifications of one schema's writes.
type pgStamps struct {
	// epoch numbers the listening connections; 0 while none listens.
	epoch    atomic.Uint64
	received atomic.Uint64
	stop     context.CancelFunc
	done     chan struct{}
	ready    chan struct{} // closed once the first connection listens
	once     sync.Once
	// heard is when the connection last delivered anything (a write or
	// a heartbeat), as time since base on the monotonic clock.
	base  time.Time
	heard atomic.Int64
}

// listenStamps starts listening for writes on dsn's schema, and waits a
// little for the first connection so that a store starts out answering
// from memory.
func listenStamps(ctx context.Context, dsn string, log *slog.Logger) *pgStamps {
	lctx, stop := context.WithCancel(context.Background())
	p := &pgStamps{stop: stop, done: make(chan struct{}), ready: make(chan struct{}), base: time.Now()}
	go p.run(lctx, dsn, log)
	select {
	case <-p.ready:
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
	}
	return p
}

func (p *pgStamps) run(ctx context.Context, dsn string, log *slog.Logger) {
	defer close(p.done)
	var epochs uint64
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		epochs++
		err := p.listen(ctx, dsn, epochs)
		p.epoch.Store(0)
		if ctx.Err() != nil {
			return
		}
		log.Warn("the PostgreSQL write notifications stopped; caches check the database's snapshot until they are back", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// listen holds one listening connection until it fails.
func (p *pgStamps) listen(ctx context.Context, dsn string, epoch uint64) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var channel string
	if err := conn.QueryRow(ctx, "SELECT "+stampChannel).Scan(&channel); err != nil {
		return err
	}
	// Named after its channel, so that an operator (or a test) can tell
	// it in pg_stat_activity.
	if _, err := conn.Exec(ctx, "SELECT set_config('application_name', $1, false)", listenerName(channel)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	// Only now are all later commits sure to be heard.
	p.heard.Store(int64(time.Since(p.base)))
	p.epoch.Store(epoch)
	p.once.Do(func() { close(p.ready) })
	for {
		wctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			p.heard.Store(int64(time.Since(p.base)))
			if n.Payload != heartbeat {
				p.received.Add(1)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case wctx.Err() != nil: // quiet for a second: ask for a heartbeat
			hctx, cancel := context.WithTimeout(ctx, staleAfter)
			_, err := conn.Exec(hctx, "SELECT pg_notify($1, $2)", channel, heartbeat)
			cancel()
			if err != nil {
				return err
			}
		default:
			return err
		}
	}
}

// listenerName is the application_name of the connection that listens on
// channel.
func listenerName(channel string) string { return "scimgate listening on " + channel }

// stamp returns the stamp from memory, or false while nothing listens.
func (p *pgStamps) stamp(writes uint64) (string, bool) {
	epoch := p.epoch.Load()
	if epoch == 0 || time.Since(p.base)-time.Duration(p.heard.Load()) > staleAfter {
		return "", false
	}
	received := p.received.Load()
	if p.epoch.Load() != epoch { // the connection changed while reading
		return "", false
	}
	return "n" + strconv.FormatUint(epoch, 10) + "." + strconv.FormatUint(received, 10) + "." + strconv.FormatUint(writes, 10), true
}

func (p *pgStamps) close() {
	if p != nil {
		p.stop()
		<-p.done
	}
}

// snapshotStamp is the fallback: the server's current snapshot.
func (s *Store) snapshotStamp(ctx context.Context) (string, bool, error) {
	rows, err := s.query(ctx, "SELECT CAST(pg_current_snapshot() AS text)")
	if err != nil {
		return "", false, fmt.Errorf("sqlstore: read stamp: %w", err)
	}
	defer rows.Close()
	var snap string
	if rows.Next() {
		if err := rows.Scan(&snap); err != nil {
			return "", false, fmt.Errorf("sqlstore: read stamp: %w", translate(err))
		}
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("sqlstore: read stamp: %w", translate(err))
	}
	return "s" + snap, snap != "", nil
}
