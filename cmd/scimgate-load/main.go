// Command scimgate-load measures scimgate on loopback: it loads users
// through the store (the path a sync uses), starts scimgate and a bare Echo
// handler in a child process, drives both with closed-loop HTTP load, and
// prints requests/s, latency percentiles and the server's RSS. The figures
// in BENCHMARKS.md come from it.
//
//	go run ./cmd/scimgate-load -users 100000 -duration 10s -conns 64
//	scripts/wrk.sh && go run ./cmd/scimgate-load -driver wrk -app   # issue 15's figures (wrk, app token)
//	go run ./cmd/scimgate-load -users 1000000 -walk   # cursor walk of every user
//	go run ./cmd/scimgate-load soak -duration 5m      # see soak.go
//	go run ./cmd/scimgate-load -push                  # outbound push (issue 16), see push.go
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

type options struct {
	users     int
	conns     int
	duration  time.Duration
	dir       string
	driver    string
	reuse     bool
	walk      bool
	pageSize  int
	scenarios []string
	db        string // PostgreSQL DSN instead of a SQLite file in dir
	replicas  int    // server processes on the database
	rate      float64
	pageCache int  // api.Config.PageCacheBytes of the server
	app       bool // add the app-token scenarios (app.go)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "soak" {
		os.Exit(soakMain(os.Args[2:], os.Stdout))
	}
	var o options
	serveDB := flag.String("serve", "", "internal: run the servers on this database and print their addresses")
	flag.IntVar(&o.users, "users", 100000, "users to load before measuring")
	flag.IntVar(&o.conns, "conns", 64, "concurrent connections")
	flag.Float64Var(&o.rate, "rate", 0, "offer this many requests/s (open loop, latency from when each was due) instead of as many as the connections can send")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each scenario")
	flag.StringVar(&o.dir, "dir", "", "working directory for the database (default: a temporary one)")
	flag.StringVar(&o.driver, "driver", "go", "load generator: go (built in) or wrk (Debian package wrk; scripts/wrk.sh installs it)")
	flag.BoolVar(&o.reuse, "reuse", false, "with -dir: use the database already there instead of loading users again")
	flag.BoolVar(&o.walk, "walk", false, "instead of the load scenarios, walk every user with cursor paging (RFC 9865) and check each comes back once")
	flag.IntVar(&o.pageSize, "page", 1000, "page size (count) of the -walk mode")
	only := flag.String("scenarios", "bare,barepage,user,dept", "scenarios to run, comma-separated: bare (1 KB), barepage (a department page scimgate returned, served precomputed), user (userName eq), dept (100-user department page)")
	flag.StringVar(&o.db, "db", "", "postgres://... DSN to load and serve instead of a SQLite file (the schema should be empty unless -reuse)")
	flag.IntVar(&o.replicas, "replicas", 1, "scimgate server processes on the database; requests are spread over them by connection")
	flag.IntVar(&o.pageCache, "pagecache", 0, "bytes of rendered list pages the server caches between writes (0: scimgate's default, -1: none, to measure the uncached path)")
	flag.BoolVar(&o.app, "app", false, "also run appuser and appdept: the lookup and the department page through the token of an app that sees a fifth of the users, created with the config API (quoted as shares of user and dept)")
	var po pushOptions
	push := flag.Bool("push", false, "instead of the load scenarios, measure outbound push into a second scimgate (push.go); -users defaults to 10000 then")
	flag.IntVar(&po.groups, "groups", 200, "with -push: groups in the directory")
	flag.IntVar(&po.members, "members", 50, "with -push: members per group on average")
	flag.IntVar(&po.concurrency, "push-conc", 0, "with -push: requests in flight, for the engine and the baseline alike (0: the engine's default)")
	flag.IntVar(&po.pageSize, "push-page", 0, "with -push: objects the engine reads, pushes and commits together (0: the engine's default)")
	flag.IntVar(&po.afterChange, "after-change", 2, "with -push: the app's afterChangeSeconds for the leaver scenario")
	flag.BoolVar(&po.sharedTransport, "push-shared-transport", false, "with -push: every run's SCIM client shares one HTTP client instead of making its own (the client's default)")
	flag.StringVar(&po.pprofDir, "pprof", "", "with -push: write CPU profiles into this directory: engine.pprof (this process, first push), incremental.pprof (this process, the incremental push) and target.pprof (the target)")
	flag.Parse()
	if *push {
		po.users, po.dir = 10000, o.dir
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "users" {
				po.users = o.users
			}
		})
		if _, err := pushMain(context.Background(), po, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "scimgate-load -push:", err)
			os.Exit(1)
		}
		return
	}
	o.scenarios = strings.Split(*only, ",")
	if o.app {
		o.scenarios = append(o.scenarios, "appuser", "appdept")
	}
	if o.rate > 0 && o.driver != "go" {
		fmt.Fprintln(os.Stderr, "scimgate-load: -rate needs the built-in driver (-driver go)")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	if *serveDB != "" {
		err = serve(ctx, *serveDB, o.pageCache)
	} else {
		err = run(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scimgate-load:", err)
		os.Exit(1)
	}
}
